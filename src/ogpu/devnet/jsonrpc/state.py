"""JSON-RPC methods on account state: balances, code, storage, nonces, calls and gas
estimates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth.exceptions import VMError
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EthValidationError

from ogpu.devnet.jsonrpc.core import ChainAccess, _CallRequest
from ogpu.devnet.jsonrpc.errors import (
    JSON,
    SERVER_ERROR,
    RpcError,
    _invalid,
    _validation_error,
    _vm_error,
)
from ogpu.devnet.jsonrpc.values import (
    Params,
    _check_arity,
    _hex,
    _hex32,
    _hexdata,
    _param,
    parse_address,
    parse_data,
    parse_hash,
    parse_quantity,
)

if TYPE_CHECKING:
    from eth.abc import (
        BlockHeaderAPI,
        ComputationAPI,
        SignedTransactionAPI,
    )

# eth_estimateGas fast path: the EIP-2200 SSTORE stipend check (2300) plus slack for
# nested calls that the 64/63 factor leaves short.
_ESTIMATE_HEADROOM = 2300 + 7700


class StateMethods(ChainAccess):
    """Account state, ``eth_call`` and ``eth_estimateGas``."""

    # -- state ----------------------------------------------------------------------------

    def _account_and_block(self, params: Params, maximum: int = 2) -> tuple[str, int]:
        _check_arity(params, maximum)
        address = to_checksum_address(parse_address(_param(params, 0, "address"), "address"))
        number = self._resolve_number(_param(params, maximum - 1, "block", required=False))
        return address, number

    def _eth_get_balance(self, params: Params) -> JSON:
        address, number = self._account_and_block(params)
        return _hex(self._tester.get_balance(address, number))

    def _eth_get_code(self, params: Params) -> JSON:
        address, number = self._account_and_block(params)
        code = self._tester.get_code(address, number)
        return code if isinstance(code, str) else _hexdata(code)

    def _eth_get_storage_at(self, params: Params) -> JSON:
        _check_arity(params, 3)
        address = parse_address(_param(params, 0, "address"), "address")
        slot = parse_quantity(_param(params, 1, "slot"), "slot")
        if slot >= 2**256:
            raise _invalid("slot must fit in 32 bytes")
        header = self._state_header(_param(params, 2, "block", required=False))
        state = self._chain.get_vm(header).state
        return _hex32(state.get_storage(Address(address), slot))

    def _eth_get_transaction_count(self, params: Params) -> JSON:
        _check_arity(params, 2)
        address = to_checksum_address(parse_address(_param(params, 0, "address"), "address"))
        tag = _param(params, 1, "block", required=False)
        if tag == "pending":
            return _hex(self._tester.get_nonce(address, "pending"))
        return _hex(self._tester.get_nonce(address, self._resolve_number(tag)))

    # -- calls and gas ----------------------------------------------------------------------

    def _parse_call(self, raw: JSON) -> _CallRequest:
        if not isinstance(raw, dict):
            raise _invalid("transaction must be an object")
        sender = raw.get("from")
        to = raw.get("to")
        data_value = raw.get("input")
        if data_value is None:
            data_value = raw.get("data")
        elif raw.get("data") is not None and raw.get("data") != data_value:
            raise _invalid('both "data" and "input" are set but differ')
        access_list: list[tuple[bytes, tuple[int, ...]]] = []
        raw_access_list = raw.get("accessList") or []
        if not isinstance(raw_access_list, list):
            raise _invalid("accessList must be an array")
        for entry in raw_access_list:
            if not isinstance(entry, dict) or not isinstance(entry.get("storageKeys", []), list):
                raise _invalid("accessList entries need address and storageKeys")
            keys = tuple(
                int.from_bytes(parse_hash(key, "storageKey"), "big")
                for key in entry.get("storageKeys", [])
            )
            access_list.append((parse_address(entry.get("address"), "accessList address"), keys))
        gas = raw.get("gas")
        return _CallRequest(
            sender=parse_address(sender, "from") if sender is not None else bytes(20),
            to=parse_address(to, "to") if to is not None else b"",
            gas=parse_quantity(gas, "gas") if gas is not None else None,
            value=parse_quantity(raw.get("value", "0x0"), "value"),
            data=parse_data(data_value, "data") if data_value is not None else b"",
            access_list=tuple(access_list),
        )

    def _spoof(
        self, header: BlockHeaderAPI, request: _CallRequest, nonce: int, gas: int
    ) -> SignedTransactionAPI:

        builder: Any = self._chain.get_vm(header).get_transaction_builder()
        unsigned = builder.new_unsigned_dynamic_fee_transaction(
            chain_id=self._chain.chain_id,
            nonce=nonce,
            max_priority_fee_per_gas=0,
            max_fee_per_gas=0,
            gas=gas,
            to=request.to,
            value=request.value,
            data=request.data,
            access_list=request.access_list,
        )
        spoofed: SignedTransactionAPI = SpoofTransaction(unsigned, from_=request.sender)  # type: ignore[assignment]
        return spoofed

    def _eth_call(self, params: Params) -> JSON:
        _check_arity(params, 3)
        request = self._parse_call(_param(params, 0, "transaction"))
        header = self._state_header(_param(params, 1, "block", required=False))
        overrides = _param(params, 2, "stateOverrides", required=False)
        if overrides:
            raise _invalid("state overrides are not supported")
        # As geth: the cap, not the block gas limit, bounds a call.
        gas = min(request.gas or self.call_gas_cap, self.call_gas_cap)
        vm = self._chain.get_vm(header)
        try:
            with vm.in_costless_state() as state:
                nonce = state.get_nonce(Address(request.sender))
                computation = state.apply_transaction(self._spoof(header, request, nonce, gas))
        except EthValidationError as exc:
            raise _validation_error(exc) from None
        if computation.is_error:
            raise _vm_error(computation.error, computation.output)
        return _hexdata(computation.output)

    def _estimate_fast(
        self, request: _CallRequest, header: BlockHeaderAPI, nonce: int
    ) -> int | None:
        """Geth-style estimate: run at the intrinsic gas, then at the block gas limit, then
        once at the gross gas used * 64/63 + headroom; that last limit is returned only if
        the transaction succeeds with it. ``None`` when it does not (binary search needed).

        Raises VMError when the transaction fails at the block gas limit.
        """
        with self._chain.get_vm(header).in_costless_state() as state:
            limit = state.gas_limit

            def run(gas: int) -> ComputationAPI:
                snapshot = state.snapshot()
                try:
                    return state.apply_transaction(self._spoof(header, request, nonce, gas))
                finally:
                    state.revert(snapshot)

            intrinsic: int = self._spoof(header, request, nonce, limit).intrinsic_gas
            if not run(intrinsic).is_error:
                return intrinsic
            full = run(limit)
            if full.is_error:
                raise full.error
            candidate = (limit - full.get_gas_remaining()) * 64 // 63 + _ESTIMATE_HEADROOM
            if candidate >= limit:
                return limit
            return None if run(candidate).is_error else candidate

    def _estimate(self, request: _CallRequest, header: BlockHeaderAPI) -> int:

        gas_limit = header.gas_limit
        vm = self._chain.get_vm(header)
        with vm.in_costless_state() as state:
            nonce = state.get_nonce(Address(request.sender))
        try:
            fast = self._estimate_fast(request, header, nonce)
            if fast is not None and (request.gas is None or fast <= request.gas):
                return fast
            estimate: int = self._chain.estimate_gas(
                self._spoof(header, request, nonce, request.gas or gas_limit), header
            )
        except VMError as exc:
            output = exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else b""
            raise _vm_error(exc, output, gas_limit=gas_limit) from None
        except EthValidationError as exc:
            raise _validation_error(exc) from None
        if request.gas is not None and estimate > request.gas:
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({request.gas})")
        return estimate

    def _eth_estimate_gas(self, params: Params) -> JSON:
        _check_arity(params, 3)
        request = self._parse_call(_param(params, 0, "transaction"))
        header = self._state_header(_param(params, 1, "block", required=False))
        if _param(params, 2, "stateOverrides", required=False):
            raise _invalid("state overrides are not supported")
        return _hex(self._estimate(request, header))
