"""Shared plumbing of the module functions and instance classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ogpu.chain.signer import resolve_signer

if TYPE_CHECKING:
    from ogpu_bindings.runtime import TxRequest

    from ogpu.types import Signer
    from ogpu.types.enums import Role
    from ogpu.types.receipt import Receipt

__all__ = ["transact"]


def transact(
    build: Callable[[], TxRequest],
    signer: Signer | None,
    role: Role | None,
) -> Receipt:
    """Validate and encode (``build``), resolve the signer, then execute.

    Input is validated before the signer is resolved, and both before any RPC.
    The executor (and web3 with it) is imported by the first call.
    """
    from ogpu.protocol._executor import execute_request

    request = build()
    account = resolve_signer(signer, role)
    return execute_request(request, account)
