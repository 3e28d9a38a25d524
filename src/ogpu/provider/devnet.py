"""Moved to :mod:`ogpu.devnet.connect` (``from ogpu.devnet import connect_devnet``); its
names stay importable from here."""

from __future__ import annotations

from ogpu.devnet.connect import *  # noqa: F403 - this module is the moved one's old name
from ogpu.devnet.connect import __all__ as __all__
