"""``python -m sklearn_sleep ...`` runs the ``sklearn-sleep`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
