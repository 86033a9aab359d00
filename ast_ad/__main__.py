"""``python -m ast_ad ...``: the ``ast-ad`` command line (see ``ast_ad.cli``)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
