"""The official SDK's async web3 helpers: ``get_async_web3`` and ``get_nexus_contract``.

Our watchers do not use them (they share one JSON-RPC poller, ``ogpu.events.poller``);
they are here for code that builds its own async queries on the active chain.
Importing this module loads nothing; the first call imports web3.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from ogpu.chain.config import ChainConfig
from ogpu.net import redact_url
from ogpu.types import InvalidRpcUrlError

if TYPE_CHECKING:
    from web3 import AsyncWeb3
    from web3.contract import AsyncContract
    from web3.providers.async_base import AsyncBaseProvider

__all__ = ["NodeUnreachableError", "get_async_web3", "get_nexus_contract"]

_CONNECT_TIMEOUT = 10.0
_instances: dict[tuple[int, str], AsyncWeb3[AsyncBaseProvider]] = {}
_lock = threading.Lock()


class NodeUnreachableError(InvalidRpcUrlError, ConnectionError):
    """No answer from the RPC URL: an ``InvalidRpcUrlError`` that is also the builtin
    ``ConnectionError`` the official SDK raises here."""


async def get_async_web3() -> AsyncWeb3[AsyncBaseProvider]:
    """An ``AsyncWeb3`` for the active chain's RPC URL, cached per chain and URL.

    Cost: the first call per chain and URL sends one ``eth_chainId`` and checks
    the node serves the active chain; later calls none.

    Raises:
        NodeUnreachableError: no answer within 10 s (an ``InvalidRpcUrlError`` and a
            ``ConnectionError``, as the official SDK raises).
        InvalidRpcUrlError: the node serves another chain than the active one.
    """
    from web3 import AsyncWeb3
    from web3.providers.rpc import AsyncHTTPProvider

    chain = ChainConfig.get_current_chain()
    url = ChainConfig.get_rpc()
    key = (int(chain), url)
    with _lock:
        cached = _instances.get(key)
    if cached is not None:
        return cached
    shown = redact_url(url, keep_path=False)
    w3: AsyncWeb3[AsyncBaseProvider] = AsyncWeb3(AsyncHTTPProvider(url))
    try:
        served = int(await asyncio.wait_for(w3.eth.chain_id, _CONNECT_TIMEOUT))
    except Exception as exc:
        raise NodeUnreachableError(
            message=f"cannot reach a JSON-RPC node at {shown}: {type(exc).__name__}",
            url=shown,
        ) from None
    if served != int(chain):
        raise InvalidRpcUrlError(
            message=f"{shown} serves chain id {served}, expected {int(chain)} ({chain.name})",
            url=shown,
        )
    with _lock:
        return _instances.setdefault(key, w3)


async def get_nexus_contract(w3: AsyncWeb3[AsyncBaseProvider]) -> AsyncContract:
    """The active chain's Nexus as a web3 ``AsyncContract`` bound to ``w3``. No RPC.

    Raises:
        ChainNotSupportedError: the active chain has no Nexus address.
    """
    address = ChainConfig.get_contract_address("NEXUS")
    return w3.eth.contract(
        address=w3.to_checksum_address(address), abi=ChainConfig.load_abi("NexusAbi")
    )
