"""JSON-RPC log queries and polling filters."""

from __future__ import annotations

import secrets
import time

from ogpu.devnet.jsonrpc.core import FILTER_IDLE_SECONDS, ChainAccess, _Filter
from ogpu.devnet.jsonrpc.errors import JSON, SERVER_ERROR, RpcError, _invalid
from ogpu.devnet.jsonrpc.values import (
    LogCriteria,
    Params,
    _check_arity,
    _hexdata,
    _param,
    _parse_criteria,
    parse_hash,
)


class LogMethods(ChainAccess):
    """``eth_getLogs`` and the filters (idle ones expire after ``FILTER_IDLE_SECONDS``)."""

    def _scan_logs(self, start: int, end: int, criteria: LogCriteria) -> list[JSON]:
        logs: list[JSON] = []
        for number in range(start, end + 1):
            header = self._header_at(number)
            if not criteria.may_match(header.bloom):
                continue
            logs.extend(self._block_logs(self._block_at(number), criteria))
        return logs

    def _range(self, from_tag: JSON, to_tag: JSON) -> tuple[int, int]:
        head = self._head().block_number
        start = self._resolve_number(from_tag, allow_future=True)
        end = self._resolve_number(to_tag, allow_future=True)
        if start > end:
            raise _invalid("invalid block range: fromBlock is after toBlock")
        return start, min(end, head)

    def _eth_get_logs(self, params: Params) -> JSON:
        _check_arity(params, 1)
        spec = _param(params, 0, "filter")
        if not isinstance(spec, dict):
            raise _invalid("filter must be an object")
        criteria = _parse_criteria(spec)
        if spec.get("blockHash") is not None:
            if spec.get("fromBlock") is not None or spec.get("toBlock") is not None:
                raise _invalid("cannot specify both blockHash and fromBlock/toBlock")
            header = self._header_by_hash(parse_hash(spec["blockHash"], "blockHash"))
            start = end = int(header.block_number)
        else:
            start, end = self._range(spec.get("fromBlock"), spec.get("toBlock"))
        return self._scan_logs(start, end, criteria)

    def _new_filter_id(self, new: _Filter) -> str:
        self._expire_filters()
        filter_id = "0x" + secrets.token_hex(16)
        self._filters[filter_id] = new
        return filter_id

    def _expire_filters(self) -> None:
        deadline = time.monotonic() - FILTER_IDLE_SECONDS
        stale = [key for key, value in self._filters.items() if value.last_poll < deadline]
        for filter_id in stale:
            del self._filters[filter_id]

    def _eth_new_filter(self, params: Params) -> JSON:
        _check_arity(params, 1)
        spec = _param(params, 0, "filter")
        if not isinstance(spec, dict):
            raise _invalid("filter must be an object")
        if spec.get("blockHash") is not None:
            raise _invalid("blockHash is not supported in filters; use eth_getLogs")
        criteria = _parse_criteria(spec)
        from_tag, to_tag = spec.get("fromBlock"), spec.get("toBlock")
        self._range(from_tag, to_tag)
        new = _Filter("log", self._head().block_number, criteria, from_tag, to_tag)
        return self._new_filter_id(new)

    def _eth_new_block_filter(self, params: Params) -> JSON:
        _check_arity(params, 0)
        return self._new_filter_id(_Filter("block", self._head().block_number))

    def _eth_new_pending_transaction_filter(self, params: Params) -> JSON:
        _check_arity(params, 0)
        return self._new_filter_id(_Filter("pending", self._head().block_number))

    def _lookup_filter(self, params: Params) -> tuple[str, _Filter]:
        _check_arity(params, 1)
        filter_id = _param(params, 0, "filterId")
        if not isinstance(filter_id, str):
            raise _invalid("filter id must be a string")
        self._expire_filters()
        found = self._filters.get(filter_id.lower())
        if found is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        found.last_poll = time.monotonic()
        return filter_id.lower(), found

    def _eth_get_filter_changes(self, params: Params) -> JSON:
        _, found = self._lookup_filter(params)
        head = int(self._head().block_number)
        start, found.cursor = found.cursor + 1, head
        if found.kind == "pending" or start > head:
            return []
        if found.kind == "block":
            return [_hexdata(self._header_at(number).hash) for number in range(start, head + 1)]
        low = self._resolve_number(found.from_tag, allow_future=True)
        high = self._resolve_number(found.to_tag, allow_future=True)
        start, end = max(start, low), min(head, high)
        if start > end:
            return []
        return self._scan_logs(start, end, found.criteria)

    def _eth_get_filter_logs(self, params: Params) -> JSON:
        _, found = self._lookup_filter(params)
        if found.kind != "log":
            raise RpcError(SERVER_ERROR, "filter not found (not a log filter)")
        start, end = self._range(found.from_tag, found.to_tag)
        return self._scan_logs(start, end, found.criteria)

    def _eth_uninstall_filter(self, params: Params) -> JSON:
        _check_arity(params, 1)
        filter_id = _param(params, 0, "filterId")
        if not isinstance(filter_id, str):
            raise _invalid("filter id must be a string")
        return self._filters.pop(filter_id.lower(), None) is not None
