"""Raw JSON-RPC requests with normalized failures.

Requests go to the provider without the Web3 instance's middleware (so no
hidden extra requests). Every failure becomes one of three exceptions:

- ``ExecutionReverted``: the EVM reverted; ``data`` holds the revert payload.
- ``NodeError``: the node answered with a JSON-RPC error.
- ``TransportError``: no usable answer (connection refused or dropped, timeout,
  malformed body). For a broadcast, the outcome is unknown.

They are internal: the protocol layer turns them into ``OGPUError`` subclasses.

web3, requests and eth-abi are imported inside the functions: a caller holding a
``Web3`` has loaded them already, and importing this module costs none of them.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from web3 import Web3
    from web3.datastructures import NamedElementOnion
    from web3.middleware.base import Middleware

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
_REVERT_PREFIX = "execution reverted"
# No Web3 middleware: web3's validation middleware would add an eth_chainId
# round trip to every call. HTTP requests go straight to the provider; other
# providers keep their own middleware (eth-tester's field formatting).
_no_middleware: NamedElementOnion[str, Middleware] | None = None


def _empty_middleware() -> NamedElementOnion[str, Middleware]:
    global _no_middleware
    if _no_middleware is None:
        from web3.datastructures import NamedElementOnion

        _no_middleware = NamedElementOnion([])
    return _no_middleware


class ExecutionReverted(Exception):
    """The EVM reverted; ``data`` is the raw revert payload (may be empty)."""

    def __init__(self, data: bytes, message: str = "execution reverted") -> None:
        super().__init__(message)
        self.data = data
        self.message = message


class NodeError(Exception):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method = method
        self.code = code
        self.message = message


class TransportError(Exception):
    """No usable answer came back from the node."""

    def __init__(self, method: str, detail: str) -> None:
        super().__init__(f"{method}: {detail}")
        self.method = method
        self.detail = detail


def encode_error_string(reason: str) -> bytes:
    """Return the ``Error(string)`` revert payload for ``reason``. No RPC."""
    from eth_abi.abi import encode

    return _ERROR_STRING_SELECTOR + encode(["string"], [reason])


def _hex_to_bytes(value: str) -> bytes | None:
    text = value[2:] if value.startswith(("0x", "0X")) else value
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _revert_data_from_message(message: str) -> bytes:
    """Recover a revert payload from a message like ``execution reverted: NotOwner``."""
    _, _, tail = message.partition(":")
    tail = tail.strip()
    if not tail:
        return b""
    if tail.startswith(("b'", 'b"')):
        try:
            literal = ast.literal_eval(tail)
        except (ValueError, SyntaxError):
            literal = None
        if isinstance(literal, bytes):
            return literal
    if tail.startswith("0x"):
        decoded = _hex_to_bytes(tail)
        if decoded is not None:
            return decoded
    return encode_error_string(tail)


def _revert_from_error_object(error: dict[str, Any]) -> ExecutionReverted | None:
    message = str(error.get("message", ""))
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data", data.get("result"))
    payload: bytes | None = None
    if isinstance(data, str):
        payload = _hex_to_bytes(data)
    is_revert = error.get("code") == 3 or _REVERT_PREFIX in message.lower() or "revert" in message
    if not is_revert:
        return None
    if payload is None:
        payload = _revert_data_from_message(message)
    return ExecutionReverted(payload, message)


def _from_exception(method: str, exc: Exception) -> Exception:
    import requests

    name = type(exc).__name__
    text = str(exc)
    if name == "TransactionFailed":
        return ExecutionReverted(_revert_data_from_message(text), text)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return TransportError(method, f"{name}: {text}")
    if isinstance(exc, requests.RequestException):
        return TransportError(method, f"{name}: {text}")
    if isinstance(exc, json.JSONDecodeError):
        return TransportError(method, f"malformed answer: {text}")
    if isinstance(exc, (ValueError, TypeError)) and "JSON" in text:
        return TransportError(method, f"malformed answer: {text}")
    return NodeError(method, None, f"{name}: {text}")


def _unwrap(method: str, response: Any) -> Any:
    if not isinstance(response, dict):
        raise TransportError(method, f"malformed answer: {response!r}")
    body = cast(dict[str, Any], response)
    error = body.get("error")
    if error is not None:
        if not isinstance(error, dict):
            raise NodeError(method, None, str(error))
        revert = _revert_from_error_object(error)
        if revert is not None and method in ("eth_call", "eth_estimateGas"):
            raise revert
        code = error.get("code")
        raise NodeError(method, code if isinstance(code, int) else None, str(error.get("message")))
    if "result" not in body:
        raise TransportError(method, "answer carries neither result nor error")
    return body["result"]


def request(w3: Web3, method: str, params: list[Any]) -> Any:
    """Send one JSON-RPC request and return its ``result``.

    Raises:
        ExecutionReverted: the call reverted.
        NodeError: the node returned an error object.
        TransportError: no usable answer.
    """
    from web3 import HTTPProvider
    from web3.types import RPCEndpoint

    provider = w3.provider
    try:
        if isinstance(provider, HTTPProvider):
            response = provider.make_request(RPCEndpoint(method), params)
        else:
            response = provider.request_func(w3, _empty_middleware())(RPCEndpoint(method), params)
    except Exception as exc:
        raise _from_exception(method, exc) from None
    return _unwrap(method, response)


def batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """Send several requests as one JSON-RPC batch (one HTTP request) when the
    provider speaks HTTP, else one by one. Each item of the returned list is the
    call's result or the exception ``request`` would have raised for it.

    Raises:
        TransportError / NodeError: the batch as a whole got no usable answer.
    """
    from web3 import HTTPProvider
    from web3.types import RPCEndpoint

    provider = w3.provider
    if not isinstance(provider, HTTPProvider) or len(calls) < 2:
        out: list[Any] = []
        for method, params in calls:
            try:
                out.append(request(w3, method, params))
            except (ExecutionReverted, NodeError, TransportError) as exc:
                out.append(exc)
        return out
    try:
        responses = provider.make_batch_request([(RPCEndpoint(m), p) for m, p in calls])
    except Exception as exc:
        raise _from_exception("batch", exc) from None
    if not isinstance(responses, list) or len(responses) != len(calls):
        error = responses.get("error") if isinstance(responses, dict) else None
        message = error.get("message") if isinstance(error, dict) else repr(responses)
        raise NodeError("batch", None, str(message))
    results: list[Any] = []
    for (method, _), response in zip(calls, responses, strict=True):
        try:
            results.append(_unwrap(method, response))
        except (ExecutionReverted, NodeError, TransportError) as exc:
            results.append(exc)
    return results


def to_int(value: Any) -> int:
    """Parse a JSON-RPC quantity (hex string or int)."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16) if value.startswith(("0x", "0X")) else int(value)
    raise TypeError(f"not a quantity: {value!r}")


def to_bytes(value: Any) -> bytes:
    """Parse JSON-RPC data (hex string or bytes)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        decoded = _hex_to_bytes(value)
        if decoded is not None:
            return decoded
    raise TypeError(f"not hex data: {value!r}")
