"""``python -m community``: the same as the ``community`` console script."""

import sys

from community.cli import main

sys.exit(main())
