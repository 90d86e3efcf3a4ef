"""The ``verirank`` command line (Typer + rich)."""

from __future__ import annotations


def main() -> None:
    import logging

    from verirank.cli.app import app

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
