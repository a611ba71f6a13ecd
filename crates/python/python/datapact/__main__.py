"""``python -m datapact ARGS``: the same as the ``datapact`` command."""

from ._cli import main

main()
