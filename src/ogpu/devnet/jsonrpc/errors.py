"""JSON-RPC error codes and objects, and the EVM failures they stand for (geth's wording)."""

from __future__ import annotations

import json
from typing import Any

from eth.exceptions import InvalidInstruction, OutOfGas, Revert
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

JSON = Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
REVERT_ERROR = 3

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")


class RpcError(Exception):
    """A JSON-RPC error object: ``code``, ``message`` and optional ``data`` (0x hex or JSON)."""

    def __init__(self, code: int, message: str, data: JSON = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, JSON]:
        """The ``error`` member of a JSON-RPC response."""
        error: dict[str, JSON] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def _invalid(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {message}")


def _revert_error(output: bytes) -> RpcError:
    if not output:
        return RpcError(SERVER_ERROR, "execution reverted")
    message = "execution reverted"
    if output[:4] == _ERROR_STRING_SELECTOR:
        try:
            (reason,) = abi_decode(["string"], output[4:])
        except (DecodingError, ValueError):
            reason = None
        if isinstance(reason, str):
            message = f"execution reverted: {reason}"
    return RpcError(REVERT_ERROR, message, "0x" + output.hex())


def _vm_error(error: Exception | None, output: bytes, *, gas_limit: int | None = None) -> RpcError:

    if isinstance(error, Revert):
        return _revert_error(output)
    if isinstance(error, OutOfGas):
        if gas_limit is not None:
            return RpcError(SERVER_ERROR, f"gas required exceeds allowance ({gas_limit})")
        return RpcError(SERVER_ERROR, "out of gas")
    if isinstance(error, InvalidInstruction):
        return RpcError(SERVER_ERROR, f"invalid opcode: {error}")
    return RpcError(SERVER_ERROR, f"execution failed: {type(error).__name__}: {error}")


def _validation_error(exc: Exception) -> RpcError:
    message = str(exc)
    lowered = message.lower()
    if "balance" in lowered or "insufficient funds" in lowered:
        return RpcError(SERVER_ERROR, f"insufficient funds for gas * price + value: {message}")
    if "exceeds gas limit" in lowered:
        return RpcError(SERVER_ERROR, f"exceeds block gas limit: {message}")
    if "intrinsic" in lowered or "insufficient gas" in lowered:
        return RpcError(SERVER_ERROR, f"intrinsic gas too low: {message}")
    return RpcError(SERVER_ERROR, f"invalid transaction: {message}")


def _error_response(request_id: JSON, error: RpcError) -> dict[str, JSON]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _encode(value: JSON) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
