"""JSON-RPC methods that send transactions (mined at once: the devnet keeps no queue)
and sign with the unlocked accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth.exceptions import UnrecognizedTransactionType
from eth_tester.exceptions import TransactionFailed  # type: ignore[import-untyped]
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_typing import Address
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EthValidationError

from ogpu.devnet.jsonrpc.core import DEFAULT_PRIORITY_FEE
from ogpu.devnet.jsonrpc.errors import JSON, SERVER_ERROR, RpcError, _invalid, _validation_error
from ogpu.devnet.jsonrpc.state import StateMethods
from ogpu.devnet.jsonrpc.values import (
    Params,
    _check_arity,
    _hex32,
    _hexdata,
    _param,
    parse_address,
    parse_data,
    parse_quantity,
)

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


class SendMethods(StateMethods):
    """``eth_sendRawTransaction``, ``eth_sendTransaction`` and message signing."""

    def _submit(self, raw: bytes) -> str:

        chain = self._chain
        try:
            transaction = chain.get_vm().get_transaction_builder().decode(raw)
            sender = transaction.sender
        except (UnrecognizedTransactionType, EthValidationError, ValueError, TypeError) as exc:
            raise RpcError(SERVER_ERROR, f"invalid transaction: {exc}") from None
        except Exception as exc:
            raise RpcError(SERVER_ERROR, f"invalid transaction: {type(exc).__name__}") from None
        tx_chain_id = getattr(transaction, "chain_id", None)
        if tx_chain_id is not None and tx_chain_id != chain.chain_id:
            raise RpcError(
                SERVER_ERROR, f"invalid chain id {tx_chain_id} (this chain is {chain.chain_id})"
            )
        expected = chain.get_vm().state.get_nonce(sender)
        if transaction.nonce < expected:
            raise RpcError(
                SERVER_ERROR, f"nonce too low: next nonce {expected}, tx nonce {transaction.nonce}"
            )
        if transaction.nonce > expected:
            raise RpcError(
                SERVER_ERROR,
                f"nonce too high: next nonce {expected}, tx nonce {transaction.nonce} "
                "(the devnet mines every transaction at once and keeps no queue)",
            )
        self._sync_pending_timestamp()
        try:
            tx_hash: str = self._tester.send_raw_transaction(_hexdata(raw))
        except (EthValidationError, TesterValidationError, TransactionFailed) as exc:
            raise _validation_error(exc) from None
        return tx_hash

    def _eth_send_raw_transaction(self, params: Params) -> JSON:
        _check_arity(params, 1)
        return self._submit(parse_data(_param(params, 0, "transaction"), "transaction"))

    def _signer(self, raw_address: JSON, name: str) -> LocalAccount:
        address = parse_address(raw_address, name)
        account = self._unlocked.get(address)
        if account is None:
            raise RpcError(SERVER_ERROR, f"unknown account {to_checksum_address(address)}")
        return account

    def _eth_send_transaction(self, params: Params) -> JSON:
        _check_arity(params, 1)
        raw = _param(params, 0, "transaction")
        if not isinstance(raw, dict):
            raise _invalid("transaction must be an object")
        if raw.get("from") is None:
            raise _invalid('"from" is required')
        account = self._signer(raw["from"], "from")
        request = self._parse_call(raw)
        head = self._head()
        nonce = (
            parse_quantity(raw["nonce"], "nonce")
            if raw.get("nonce") is not None
            else self._chain.get_vm().state.get_nonce(Address(request.sender))
        )
        gas = request.gas if request.gas is not None else self._estimate(request, head)
        tx: dict[str, Any] = {
            "chainId": self._chain.chain_id,
            "nonce": nonce,
            "gas": gas,
            "value": request.value,
            "data": request.data,
        }
        if request.to:
            tx["to"] = to_checksum_address(request.to)
        if raw.get("gasPrice") is not None:
            tx["gasPrice"] = parse_quantity(raw["gasPrice"], "gasPrice")
        else:
            tip = (
                parse_quantity(raw["maxPriorityFeePerGas"], "maxPriorityFeePerGas")
                if raw.get("maxPriorityFeePerGas") is not None
                else DEFAULT_PRIORITY_FEE
            )
            tx["maxPriorityFeePerGas"] = tip
            tx["maxFeePerGas"] = (
                parse_quantity(raw["maxFeePerGas"], "maxFeePerGas")
                if raw.get("maxFeePerGas") is not None
                else 2 * self._next_base_fee() + tip
            )
            tx["type"] = 2
            tx["accessList"] = [
                {"address": to_checksum_address(address), "storageKeys": [_hex32(k) for k in keys]}
                for address, keys in request.access_list
            ]
        signed = account.sign_transaction(tx)
        return self._submit(bytes(signed.raw_transaction))

    def _sign_message(self, account: LocalAccount, message: bytes) -> str:
        from eth_account.messages import encode_defunct

        return _hexdata(bytes(account.sign_message(encode_defunct(primitive=message)).signature))

    def _eth_sign(self, params: Params) -> JSON:
        _check_arity(params, 2)
        account = self._signer(_param(params, 0, "address"), "address")
        return self._sign_message(account, parse_data(_param(params, 1, "message"), "message"))

    def _personal_sign(self, params: Params) -> JSON:
        _check_arity(params, 3)
        account = self._signer(_param(params, 1, "address"), "address")
        return self._sign_message(account, parse_data(_param(params, 0, "message"), "message"))
