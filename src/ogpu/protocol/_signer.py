"""Signer resolution (implementation in ``ogpu.chain.signer``)."""

from __future__ import annotations

from ogpu.chain.signer import resolve_signer
from ogpu.types import Signer

__all__ = ["Signer", "resolve_signer"]
