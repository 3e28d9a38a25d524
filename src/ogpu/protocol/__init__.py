"""The chain-facing layer: 1:1 wrappers around the OpenGPU contracts.

Instance classes (``Source``, ``Task``, ``Response``, ``Provider``,
``Master``) are stateless proxies bound to one address; the modules
``nexus``, ``controller``, ``terminal`` and ``vault`` wrap the singleton
contracts. Every write goes through ``TxExecutor``.

Every name loads on first access (PEP 562): ``TxExecutor``, ``execute_request`` and
``Signer`` import web3 and eth-account; a class or module loads only the bindings it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu._lazy import lazy_imports

__all__ = [
    "CHUNK_SIZE",
    "REVERT_PATTERN_MAP",
    "ZERO_ADDRESS",
    "Master",
    "Provider",
    "Response",
    "Signer",
    "Source",
    "Task",
    "TxExecutor",
    "_paginated_call",
    "controller",
    "decode_revert",
    "execute_request",
    "extract_source_address",
    "extract_task_address",
    "load_contract",
    "nexus",
    "resolve_signer",
    "terminal",
    "vault",
]

if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer
    from ogpu.protocol import controller, nexus, terminal, vault
    from ogpu.protocol._base import _paginated_call, load_contract
    from ogpu.protocol._bindings import CHUNK_SIZE, ZERO_ADDRESS
    from ogpu.protocol._executor import TxExecutor, execute_request
    from ogpu.protocol._revert import REVERT_PATTERN_MAP, decode_revert
    from ogpu.protocol.controller import extract_task_address
    from ogpu.protocol.master import Master
    from ogpu.protocol.nexus import extract_source_address
    from ogpu.protocol.provider import Provider
    from ogpu.protocol.response import Response
    from ogpu.protocol.source import Source
    from ogpu.protocol.task import Task
    from ogpu.types import Signer
else:  # runtime: each name imports its module on first access (the imports above)
    __getattr__, __dir__ = lazy_imports(__name__, globals())
