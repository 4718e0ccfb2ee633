"""``python -m cityctl``: the ``cityops`` command line."""

import sys

from cityctl.cli import main

sys.exit(main())
