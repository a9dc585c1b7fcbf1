"""``python -m aekit``: the same as the ``aekit`` command."""

from aekit.cli import main

if __name__ == "__main__":
    main(prog_name="aekit")
