"""``python -m ogpu.provider ...`` runs ``ogpu provider run ...``."""

import sys

from ogpu.cli import console_main

console_main(["provider", "run", *sys.argv[1:]])
