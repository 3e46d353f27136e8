"""`python -m smskit`: see smskit.cli."""

import sys

from .cli import main

sys.exit(main())
