"""``python -m verirank.cli``: the same as the ``verirank`` command."""

from verirank.cli import main

main()
