"""``python -m ogpu.provider ...`` runs ``ogpu provider run ...``."""

import sys

from ogpu.cli import main

raise SystemExit(main(["provider", "run", *sys.argv[1:]]))
