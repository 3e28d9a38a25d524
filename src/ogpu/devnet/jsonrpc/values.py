"""JSON-RPC values: parameter parsing, hex quantities and data, eth-tester objects as
JSON-RPC objects, and log criteria (geth's matching rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_bloom.bloom import BloomFilter

from ogpu.devnet.jsonrpc.errors import JSON, _invalid

Params = list[JSON]


# -- parameter parsing ------------------------------------------------------------------


def _param(params: Params, index: int, name: str, *, required: bool = True) -> JSON:
    if index < len(params):
        return params[index]
    if required:
        raise _invalid(f"missing value for required argument {index} ({name})")
    return None


def _check_arity(params: Params, maximum: int) -> None:
    if len(params) > maximum:
        raise _invalid(f"too many arguments, want at most {maximum}")


def parse_quantity(value: JSON, name: str) -> int:
    """A JSON-RPC quantity: ``0x``-prefixed hex (or a non-negative JSON integer).

    No I/O. Raises RpcError (-32602) for anything else.
    """
    if isinstance(value, bool):
        raise _invalid(f"{name}: expected a hex quantity, got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise _invalid(f"{name}: quantity must be non-negative")
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) > 2:
        try:
            return int(value[2:], 16)
        except ValueError:
            pass
    raise _invalid(f"{name}: expected a 0x-prefixed hex quantity, got {value!r:.80}")


def parse_data(value: JSON, name: str) -> bytes:
    """JSON-RPC data: ``0x``-prefixed hex with an even number of digits. Raises RpcError."""
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        digits = value[2:]
        if len(digits) % 2 == 0:
            try:
                return bytes.fromhex(digits)
            except ValueError:
                pass
    raise _invalid(f"{name}: expected 0x-prefixed hex data, got {value!r:.80}")


def parse_address(value: JSON, name: str) -> bytes:
    """A 20-byte address in hex (any letter case). Raises RpcError (-32602)."""
    raw = parse_data(value, name) if isinstance(value, str) else None
    if raw is None or len(raw) != 20:
        raise _invalid(f"{name}: expected a 20-byte hex address, got {value!r:.80}")
    return raw


def parse_hash(value: JSON, name: str) -> bytes:
    """A 32-byte hash in hex. Raises RpcError (-32602)."""
    raw = parse_data(value, name) if isinstance(value, str) else None
    if raw is None or len(raw) != 32:
        raise _invalid(f"{name}: expected a 32-byte hex hash, got {value!r:.80}")
    return raw


def _hex(value: int) -> str:
    return hex(value)


def _hexdata(value: bytes) -> str:
    return "0x" + value.hex()


def _hex32(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _bloom_hex(value: int) -> str:
    return "0x" + value.to_bytes(256, "big").hex()


# -- eth-tester dict -> JSON-RPC object ------------------------------------------------------

_KEY_RENAMES = {"coinbase": "miner"}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _rpc_value(key: str, value: JSON) -> JSON:
    if value is None or isinstance(value, bool):
        return value
    if key == "logs_bloom" and isinstance(value, int):
        return _bloom_hex(value)
    if isinstance(value, int):
        return _hex(value)
    if isinstance(value, (bytes, bytearray)):
        return _hexdata(bytes(value))
    if isinstance(value, str):
        if key in ("to", "contract_address") and value == "":
            return None
        return value
    if isinstance(value, dict):
        return _rpc_object(value)
    if isinstance(value, (list, tuple)):
        return [_rpc_value(key, item) for item in value]
    return value


def _rpc_object(source: dict[str, JSON], *, transaction: bool = False) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    for key, value in source.items():
        if transaction and key == "data":
            out["input"] = _rpc_value(key, value)
        elif key == "transactions" and isinstance(value, (list, tuple)):
            out["transactions"] = [
                _rpc_object(item, transaction=True) if isinstance(item, dict) else item
                for item in value
            ]
        else:
            out[_KEY_RENAMES.get(key, _camel(key))] = _rpc_value(key, value)
    return out


# -- logs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogCriteria:
    """Address/topic criteria of ``eth_getLogs`` and log filters (geth matching rules)."""

    addresses: frozenset[bytes] = frozenset()
    topics: tuple[frozenset[bytes] | None, ...] = ()

    def may_match(self, bloom: int) -> bool:
        """Cheap pre-check against a block's logs bloom (no false negatives)."""
        if bloom == 0:
            return False
        filter_ = BloomFilter(bloom)
        if self.addresses and not any(address in filter_ for address in self.addresses):
            return False
        return all(
            alternatives is None or any(topic in filter_ for topic in alternatives)
            for alternatives in self.topics
        )

    def matches(self, address: bytes, topics: Sequence[bytes]) -> bool:
        """Whether one log matches."""
        if self.addresses and address not in self.addresses:
            return False
        if len(self.topics) > len(topics):
            return False
        return all(
            alternatives is None or topic in alternatives
            for alternatives, topic in zip(self.topics, topics, strict=False)
        )


def _parse_criteria(spec: dict[str, JSON]) -> LogCriteria:
    raw_address = spec.get("address")
    if raw_address is None:
        addresses: frozenset[bytes] = frozenset()
    elif isinstance(raw_address, list):
        addresses = frozenset(parse_address(item, "address") for item in raw_address)
    else:
        addresses = frozenset({parse_address(raw_address, "address")})
    raw_topics = spec.get("topics")
    if raw_topics is None:
        raw_topics = []
    if not isinstance(raw_topics, list):
        raise _invalid("topics must be an array")
    if len(raw_topics) > 4:
        raise _invalid("at most 4 topic positions are allowed")
    topics: list[frozenset[bytes] | None] = []
    for position in raw_topics:
        if position is None:
            topics.append(None)
        elif isinstance(position, list):
            if not position or any(item is None for item in position):
                topics.append(None)
            else:
                topics.append(frozenset(parse_hash(item, "topic") for item in position))
        else:
            topics.append(frozenset({parse_hash(position, "topic")}))
    return LogCriteria(addresses=addresses, topics=tuple(topics))
