"""``python -m topoanalysis ...``: the ``topoanalysis`` command (:func:`topoanalysis.cli.main`)."""

import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover (an import runs nothing)
    sys.exit(main())
