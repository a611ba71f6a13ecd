"""``datapact.optimize`` and ``datapact.calibrate``: the searches of ``datapact optimize`` and
``datapact calibrate`` (``docs/optimize.md``), returning their tables."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple, Union

from . import _native
from ._errors import OutputError

if TYPE_CHECKING:
    import pyarrow

#: What ``file`` may be: a path to a TOML file with an ``[optimize]`` or ``[calibrate]`` table,
#: TOML text, or a dict of the same structure.
SearchLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]

# The tables of each kind of search, in documentation order.
_TABLES = {
    "optimize": ("pareto", "evaluations", "hypervolume"),
    "calibrate": ("posterior", "proposals", "tolerances"),
}


class Search:
    """The outputs of one search: its directory (``search.toml``, ``search.json``, the runs of
    every step under ``generations/``) and its tables as ``pyarrow.Table`` s, read on first
    access: for ``optimize`` :attr:`pareto` (the final front: a column per key as in ``cells``,
    ``<mechanism>_<metric>`` and ``<mechanism>_<metric>_se`` per objective and constraint),
    ``evaluations`` and ``hypervolume``; for ``calibrate`` :attr:`posterior` (weighted
    particles), ``proposals`` and ``tolerances``."""

    dir: Path
    """The search's directory."""
    kind: str
    """``"optimize"`` or ``"calibrate"``."""

    def __init__(self, dir: Union[str, "os.PathLike[str]"], *, _owned: bool = False) -> None:
        self.dir = Path(os.path.abspath(os.fspath(dir)))
        identity = self.dir / "search.json"
        try:
            self.kind = json.loads(identity.read_text(encoding="utf-8"))["kind"]
        except FileNotFoundError:
            raise OutputError(f"{identity}: not a search directory (no search.json)") from None
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise OutputError(f"{identity}: unreadable: {e}") from None
        if self.kind not in _TABLES:
            raise OutputError(f"{identity}: unknown search kind {self.kind!r}")
        self._cache: Dict[str, "pyarrow.Table"] = {}
        if _owned:
            weakref.finalize(self, shutil.rmtree, str(self.dir), True)

    @property
    def tables(self) -> Tuple[str, ...]:
        """The tables of this kind of search that the directory holds (all of them once it
        finished)."""
        return tuple(t for t in _TABLES[self.kind] if (self.dir / f"{t}.parquet").is_file())

    def table(self, name: str) -> "pyarrow.Table":
        """The table ``name`` (``"pareto"``, ``"evaluations"``, ...) as a ``pyarrow.Table``;
        ``KeyError`` if this search has none of that name."""
        if name not in self._cache:
            if name not in self.tables:
                raise KeyError(f"this {self.kind} search has no {name!r} table (it has {', '.join(self.tables) or 'none yet'})")
            import pyarrow.parquet as pq

            self._cache[name] = pq.read_table(self.dir / f"{name}.parquet")
        return self._cache[name]

    def __getattr__(self, name: str) -> "pyarrow.Table":
        if name.startswith("_") or name in ("dir", "kind"):
            raise AttributeError(name)
        try:
            return self.table(name)
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    @property
    def toml(self) -> str:
        """The effective search file (scenario and search table, canonical TOML)."""
        return (self.dir / "search.toml").read_text(encoding="utf-8")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.tables))

    def __repr__(self) -> str:
        rows = ", ".join(f"{t}={self.table(t).num_rows}" for t in self.tables)
        return f"<datapact.Search {self.kind} in {str(self.dir)!r}: {rows}>"


def _search(kind: str, file: SearchLike, set: Any, out: Any, threads: Optional[int], resume: bool) -> Search:
    from . import _overrides

    overrides = _overrides(set)
    owned = out is None
    directory = Path(tempfile.mkdtemp(prefix=f"datapact-{kind}-")) if owned else Path(os.fspath(out))
    try:
        _native.search(kind, file, overrides, str(directory), threads, resume)
        return Search(directory, _owned=owned)
    except BaseException:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _entry(kind: str, doc: str) -> Callable[..., Search]:
    """The public function of one kind of search (both take the same arguments)."""

    def entry(
        file: SearchLike,
        *,
        set: Any = None,
        out: Union[str, "os.PathLike[str]", None] = None,
        threads: Optional[int] = None,
        resume: bool = False,
    ) -> Search:
        return _search(kind, file, set, out, threads, resume)

    entry.__name__ = entry.__qualname__ = kind
    entry.__doc__ = doc
    return entry


optimize = _entry(
    "optimize",
    """The Pareto front of a file's ``[optimize]`` objectives over its keys (NSGA-II), as
    ``datapact optimize FILE --out OUT`` computes it (same directory, same bytes; the command
    line also draws ``front.png``). Returns a :class:`Search`: ``.pareto``, ``.evaluations``,
    ``.hypervolume``.

    file
        A path to a scenario file with an ``[optimize]`` table, TOML text, or a dict.
    set
        Overrides, like ``--set``: ``{"optimize.generations": 4, "game.value": 0.2}``.
    out
        The search's directory; without it, a temporary directory deleted with the result.
    threads
        Worker threads of each run; all cores when ``None``.
    resume
        Continue the search in ``out`` (interrupted by Ctrl-C, for instance).

    Raises :class:`ScenarioError` for a bad file (before any work), :class:`OutputError` when
    ``out`` holds another search, ``KeyboardInterrupt`` on Ctrl-C.
    """,
)

calibrate = _entry(
    "calibrate",
    """Fit a file's ``[calibrate]`` keys to its target moments (ABC-SMC), as ``datapact
    calibrate FILE --out OUT`` does (same directory, same bytes; the command line also draws
    ``posterior.png``). Returns a :class:`Search`: ``.posterior`` (the last generation's
    particles with their ``weight``), ``.proposals``, ``.tolerances``. The arguments are
    :func:`optimize`'s.""",
)
