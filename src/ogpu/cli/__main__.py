"""``python -m ogpu.cli``."""

from ogpu.cli import main

raise SystemExit(main())
