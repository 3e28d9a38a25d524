"""One Web3 instance per (chain, RPC URL), sharing a pooled HTTP session; and the
web3-free endpoint of a chain (:meth:`Web3Manager.get_endpoint`).

The instances, pinned and cached, live in the current context
(:mod:`ogpu.chain.context`), so an ``ogpu.using(...)`` block sees its own.

web3 and requests are imported when the first instance or session is built,
not with this module. JSON-RPC requests made through :mod:`ogpu.chain.rpc` never use
that session: HTTP endpoints go through :mod:`ogpu.chain.transport`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

from ogpu.chain import rpc
from ogpu.chain.config import CHAIN_RPC_URLS as CHAIN_RPC_URLS  # official names here
from ogpu.chain.config import ChainConfig as ChainConfig
from ogpu.chain.config import ChainId
from ogpu.chain.context import current
from ogpu.chain.networks import coerce_chain
from ogpu.types.errors import InvalidRpcUrlError

if TYPE_CHECKING:
    import requests
    from web3 import Web3

    from ogpu.chain.transport import HttpTransport

#: Seconds one HTTP JSON-RPC call may take (its retries included).
DEFAULT_HTTP_TIMEOUT = 30.0
#: Seconds :meth:`Web3Manager.probe_chain_id` waits for an answer.
PROBE_TIMEOUT = 10.0
_POOL_SIZE = 32


def _new_session() -> requests.Session:
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _http_web3(url: str, session: requests.Session) -> Web3:
    import requests
    from web3 import Web3
    from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration

    from ogpu.chain.transport import READS

    # Never let web3 resend a raw transaction on its own: the executor reconciles
    # an unknown broadcast outcome by transaction hash instead. Reads made through
    # web3 itself (``w3.eth.*``; the SDK's own go through ``transport``) get the one
    # read policy's tries and pauses.
    retry_methods = [m for m in REQUEST_RETRY_ALLOWLIST if m != "eth_sendRawTransaction"]
    provider = Web3.HTTPProvider(
        url,
        request_kwargs={"timeout": DEFAULT_HTTP_TIMEOUT},
        session=session,
        exception_retry_configuration=ExceptionRetryConfiguration(
            errors=(requests.ConnectionError, requests.Timeout),
            retries=READS.max_attempts,
            backoff_factor=READS.backoff_initial,
            method_allowlist=retry_methods,
        ),
    )
    return Web3(provider)


class Web3Manager:
    """Caches one ``Web3`` per (chain, RPC URL) in the current context; all HTTP ones
    share a pooled session (a process resource, not context state)."""

    _session: ClassVar[requests.Session | None] = None
    _lock: ClassVar[threading.RLock] = threading.RLock()

    @classmethod
    def session(cls) -> requests.Session:
        """Return the shared, connection-pooling HTTP session. No RPC."""
        with cls._lock:
            if cls._session is None:
                cls._session = _new_session()
            return cls._session

    @classmethod
    def get_web3_instance(cls, chain_id: ChainId | int | None = None) -> Web3:
        """Return the cached Web3 of ``chain_id`` (default: active chain). No RPC.

        Raises UnknownChainError (a ValueError) for a ``chain_id`` that is no supported chain.
        """
        state = current()
        chain = state.chain if chain_id is None else coerce_chain(chain_id)
        override = state.pinned.get(chain)
        if override is not None:
            return override
        url = state.rpc_urls[chain]
        key = (chain, url)
        with cls._lock:
            w3 = state.web3s.get(key)
            if w3 is None:
                w3 = _http_web3(url, cls.session())
                state.web3s[key] = w3
            return w3

    @classmethod
    def get_endpoint(cls, chain_id: ChainId | int | None = None) -> Web3 | HttpTransport:
        """What :mod:`ogpu.chain.rpc` should call for ``chain_id`` (default: active chain):
        the pinned Web3 if one is set (e.g. an in-process provider), else the HTTP
        transport of the chain's RPC URL. No RPC; imports no web3 unless one is pinned.
        """
        state = current()
        chain = state.chain if chain_id is None else coerce_chain(chain_id)
        override = state.pinned.get(chain)
        if override is not None:
            return override
        from ogpu.chain.transport import transport_for

        return transport_for(state.rpc_urls[chain], timeout=DEFAULT_HTTP_TIMEOUT)

    @classmethod
    def set_web3_instance(cls, chain_id: ChainId | int, w3: Web3 | None) -> None:
        """Pin ``w3`` (e.g. an in-process provider) for a chain; ``None`` unpins. No RPC."""
        chain = coerce_chain(chain_id)
        state = current()
        with state.lock:
            if w3 is None:
                state.pinned.pop(chain, None)
            else:
                state.pinned[chain] = w3

    @classmethod
    def update_rpc_url(cls, chain_id: ChainId | int, rpc_url: str) -> None:
        """Point a chain at ``rpc_url`` and drop any pinned or cached Web3 for it. No RPC."""
        chain = coerce_chain(chain_id)
        state = current()
        with state.lock, cls._lock:
            state.rpc_urls[chain] = rpc_url
            state.pinned.pop(chain, None)
            for key in [k for k in state.web3s if k[0] == chain]:
                del state.web3s[key]

    @classmethod
    def probe_chain_id(cls, url: str) -> int:
        """Ask ``url`` for its chain id. One HTTP request, at most ``PROBE_TIMEOUT`` seconds.

        Raises:
            InvalidRpcUrlError: not an http(s) URL, unreachable endpoint or a malformed
                answer (the message names the redacted URL and the cause).
        """
        from ogpu.chain.transport import transport_for
        from ogpu.net import redact_url

        shown = redact_url(url, keep_path=False)
        try:
            transport = transport_for(url, timeout=PROBE_TIMEOUT)
        except ValueError:
            raise InvalidRpcUrlError(message=f"not an http(s) URL: {shown}") from None
        try:
            return rpc.to_int(rpc.request(transport, "eth_chainId", []), "eth_chainId")
        except (rpc.NodeError, rpc.TransportError) as exc:
            raise InvalidRpcUrlError(message=f"no JSON-RPC node at {shown}: {exc}") from exc

    @classmethod
    def clear(cls) -> None:
        """Forget every cached and pinned Web3 instance of the current context. No RPC."""
        state = current()
        with state.lock, cls._lock:
            state.web3s.clear()
            state.pinned.clear()


def WEB3() -> Web3:
    """Return the Web3 of the active chain. No RPC."""
    return Web3Manager.get_web3_instance()


def get_web3_for_chain(chain_id: ChainId | int) -> Web3:
    """Return the Web3 of ``chain_id``. No RPC."""
    return Web3Manager.get_web3_instance(chain_id)
