"""``python -m hfbench`` runs the CLI."""

import sys

from hfbench.cli import main

sys.exit(main())
