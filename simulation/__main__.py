"""``python -m simulation``: the scoresim command line (see :mod:`simulation.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
