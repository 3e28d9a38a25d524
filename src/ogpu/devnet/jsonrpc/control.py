"""Devnet controls in the anvil/ganache style: time, mining, snapshots."""

from __future__ import annotations

import time

from ogpu.devnet.jsonrpc.core import ChainAccess, _Snapshot
from ogpu.devnet.jsonrpc.errors import JSON, _invalid
from ogpu.devnet.jsonrpc.values import Params, _check_arity, _hex, _param, parse_quantity


class ControlMethods(ChainAccess):
    """``evm_increaseTime``, ``evm_mine``, ``evm_snapshot`` and ``evm_revert``."""

    def _evm_increase_time(self, params: Params) -> JSON:
        """Shift the clock so the next block is at least ``seconds`` later; return the offset."""
        _check_arity(params, 1)
        seconds = parse_quantity(_param(params, 0, "seconds"), "seconds")
        if seconds > 100 * 365 * 24 * 3600:
            raise _invalid("seconds is too large")
        # Blocks can run ahead of the wall clock (one second per block at least), so the
        # offset also guarantees the next block is ``seconds`` after the latest one.
        catch_up = self._head().timestamp + seconds - int(time.time())
        self._time_offset = max(self._time_offset + seconds, catch_up)
        self._sync_pending_timestamp()
        return self._time_offset

    def _evm_mine(self, params: Params) -> JSON:
        _check_arity(params, 1)
        option = _param(params, 0, "options", required=False)
        count, timestamp = 1, None
        if isinstance(option, dict):
            if option.get("blocks") is not None:
                count = parse_quantity(option["blocks"], "blocks")
            if option.get("timestamp") is not None:
                timestamp = parse_quantity(option["timestamp"], "timestamp")
        elif option is not None:
            timestamp = parse_quantity(option, "timestamp")
        if not 1 <= count <= 10_000:
            raise _invalid("blocks must be between 1 and 10000")
        if timestamp is not None:
            if timestamp <= self._head().timestamp:
                raise _invalid("timestamp must be after the latest block's")
            self._time_offset = timestamp - int(time.time())
        self._mine(count, timestamp)
        return "0x0"

    def _evm_snapshot(self, params: Params) -> JSON:
        _check_arity(params, 0)
        self._snapshot_counter += 1
        self._snapshots[self._snapshot_counter] = _Snapshot(
            self._tester.take_snapshot(), self._time_offset
        )
        return _hex(self._snapshot_counter)

    def _evm_revert(self, params: Params) -> JSON:
        _check_arity(params, 1)
        snapshot_id = parse_quantity(_param(params, 0, "snapshotId"), "snapshotId")
        snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None:
            return False
        self._tester.revert_to_snapshot(snapshot.tester_id)
        self._time_offset = snapshot.time_offset
        for key in [key for key in self._snapshots if key >= snapshot_id]:
            del self._snapshots[key]
        head = self._head().block_number
        for found in self._filters.values():
            found.cursor = min(found.cursor, head)
        return True
