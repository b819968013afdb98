"""``python -m degeneracy``: the command line (same as the ``degeneracy`` script)."""

from degeneracy.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
