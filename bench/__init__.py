"""Benchmark harness: this SDK vs the published ``ogpu==0.2.3`` vs plain web3.py.

Run with ``python -m bench`` (``make bench``); see ``bench/README.md``.
"""
