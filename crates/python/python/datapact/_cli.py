"""The ``datapact`` command that ``pip install`` puts on the PATH: the command line of the Rust
binary, compiled into the extension module (no second build)."""

import signal
import sys

from . import _native


def main() -> None:
    # As a native process: Ctrl-C ends a command that does not handle it, and the commands
    # that do (run, audit, ...) install their own handlers.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.exit(_native.main(["datapact", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
