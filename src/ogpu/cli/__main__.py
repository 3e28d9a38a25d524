"""``python -m ogpu.cli``."""

from ogpu.cli import console_main

console_main()
