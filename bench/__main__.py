"""``python -m bench``: run the benchmarks (see ``bench/README.md``)."""

from bench.harness import main

raise SystemExit(main())
