"""The exceptions of datapact. Each carries ``exit_code``: what the ``datapact`` command line
would exit with for the same failure."""


class DatapactError(Exception):
    """Base class of every datapact error."""

    exit_code: int = 1


class ScenarioError(DatapactError, ValueError):
    """A scenario that cannot be loaded. The message is the command line's: ``origin:line:
    message`` or ``origin: key: message``; the parts are attributes too."""

    exit_code = 2
    origin: str
    line: "int | None"
    key: "str | None"
    message: str


class OutputError(DatapactError, OSError):
    """An output directory refused (another scenario's outputs; exit code 2) or an I/O failure
    (exit code 1)."""


class VerifyError(OutputError):
    """An output directory that does not match its ``manifest.json``: ``missing``, ``damaged``
    and ``unexpected`` list the files (paths relative to the directory)."""

    missing: "list[str]"
    damaged: "list[str]"
    unexpected: "list[str]"


class AppError(DatapactError):
    """A researcher's app (``datapact.run(..., app=APP)``) exited with an error: ``exit_code`` is
    its exit code (2 for bad input: a scenario, a key or an output directory it refuses), ``stderr``
    what it printed (the message names the file, the key and the allowed range), ``command`` the
    command line it was run with."""

    stderr: str
    command: "list[str]"


class OutOfMemory(DatapactError, MemoryError):
    """Work that would not fit in the memory the process may still take (the machine's, a
    cgroup's, or the address-space limit ``RLIMIT_AS``), refused before it started: ``needed`` and
    ``available`` are the two figures in bytes. An allocation failure inside the extension would
    abort the interpreter, so datapact checks first. ``exit_code`` is 2 for a run (as the command
    line refuses one), 1 for a table read."""

    needed: int
    available: int


class InvariantError(DatapactError):
    """A model invariant was violated: a bug in datapact; please report the scenario."""

    exit_code = 3


class InterruptedRun(DatapactError):
    """The run was stopped before it finished (finished chunks are kept)."""

    exit_code = 130
