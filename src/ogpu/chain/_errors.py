"""The JSON-RPC failures and how an answer object becomes a result or one of them.

Internal (re-exported by :mod:`ogpu.chain.rpc`); the protocol layer turns them into
``OGPUError`` subclasses. Standard library only.
"""

from __future__ import annotations

import ast
from typing import Any, cast

__all__ = [
    "ExecutionReverted",
    "MalformedAnswer",
    "NodeError",
    "TransportError",
    "encode_error_string",
    "unwrap",
]

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
_REVERT_PREFIX = "execution reverted"
_MAX_MESSAGE = 200


class ExecutionReverted(Exception):
    """The EVM reverted; ``data`` is the raw revert payload (may be empty)."""

    def __init__(self, data: bytes, message: str = "execution reverted") -> None:
        super().__init__(message)
        self.data = data
        self.message = message


class NodeError(Exception):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        message = _one_line(message)
        super().__init__(f"{method}: {message} (code {code})")
        self.method = method
        self.code = code
        self.message = message


class TransportError(Exception):
    """No usable answer came back from the node (unreachable, timeout, malformed)."""

    def __init__(self, method: str, detail: str) -> None:
        detail = _one_line(detail)
        super().__init__(f"{method}: {detail}")
        self.method = method
        self.detail = detail


class MalformedAnswer(TransportError, ValueError, TypeError):
    """An answer of the wrong shape (``"banana"`` for a quantity, ``null`` for a block
    number...). Also a ValueError/TypeError for parsers that catch those."""


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"


def encode_error_string(reason: str) -> bytes:
    """The ``Error(string)`` revert payload for ``reason`` (ABI encoded). No RPC."""
    raw = reason.encode("utf-8")
    padded = raw + b"\0" * (-len(raw) % 32)
    return _ERROR_STRING_SELECTOR + (32).to_bytes(32, "big") + len(raw).to_bytes(32, "big") + padded


def hex_to_bytes(value: str) -> bytes | None:
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
        decoded = hex_to_bytes(tail)
        if decoded is not None:
            return decoded
    return encode_error_string(tail)


def revert_from_message(text: str) -> ExecutionReverted:
    """The revert a provider's exception message describes."""
    return ExecutionReverted(_revert_data_from_message(text), text)


def _revert_from_error_object(error: dict[str, Any]) -> ExecutionReverted | None:
    message = str(error.get("message", ""))
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data", data.get("result"))
    payload: bytes | None = None
    if isinstance(data, str):
        payload = hex_to_bytes(data)
    is_revert = error.get("code") == 3 or _REVERT_PREFIX in message.lower() or "revert" in message
    if not is_revert:
        return None
    if payload is None:
        payload = _revert_data_from_message(message)
    return ExecutionReverted(payload, message)


def unwrap(method: str, response: Any) -> Any:
    """The ``result`` of one JSON-RPC answer object.

    Raises:
        ExecutionReverted: an ``eth_call``/``eth_estimateGas`` reverted.
        NodeError: the answer is an error object. TransportError: neither.
    """
    if not isinstance(response, dict):
        raise MalformedAnswer(method, f"malformed answer: {type(response).__name__}, not an object")
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
        raise MalformedAnswer(method, "malformed answer: neither result nor error")
    return body["result"]
