"""The generated error hierarchy, revert tables and decode_revert on real revert data."""

from __future__ import annotations

import builtins
import pickle
from collections.abc import Callable
from types import ModuleType

import ogpu_bindings.errors
import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from ogpu_bindings import controller, nexus, task, vault

import ogpu.errors
import ogpu.types.errors as E

from .conftest import Chain, import_sub

#: Public names of both error modules: the hand-written SDK errors, the generated contract ones.
PUBLIC = {n for n in vars(ogpu.errors) if n[:1].isupper()} | set(ogpu_bindings.errors.__all__)

ERROR_STRING = bytes.fromhex("08c379a0")
PANIC = bytes.fromhex("4e487b71")

# The revert reasons of PROTOCOL.md and the class each one must decode to.
REASONS = {
    "NotOwner": E.NotSourceOwnerError,
    "NotMaster": E.NotMasterError,
    "NotProvider": E.NotProviderError,
    "NotAuthorized": E.NotAuthorizedError,
    "Expired": E.TaskExpiredError,
    "AlreadyConfirmed": E.ResponseAlreadyConfirmedError,
    "AlreadyFinalized": E.TaskAlreadyFinalizedError,
    "NotCancelable": E.TaskNotCancelableError,
    "InsufficientBalance": E.InsufficientBalanceError,
    "InsufficientLockup": E.InsufficientLockupError,
    "UnbondingNotElapsed": E.UnbondingPeriodNotElapsedError,
    "NotEligible": E.NotEligibleError,
    "SourceInactive": E.SourceInactiveError,
    "PaymentTooLow": E.PaymentTooLowError,
    "ExpiryTooLong": E.ExpiryTooLongError,
    "NotRegistered": E.NotRegisteredError,
    "AlreadyAttempted": E.AlreadyAttemptedError,
    "NotAttempted": E.NotAttemptedError,
    "AlreadySubmitted": E.ResponseAlreadySubmittedError,
    "EnvironmentNotSupported": E.EnvironmentNotSupportedError,
}

# Every error class the seed pages name, with the group it must belong to.
SEED_CLASSES = {
    "OGPUError": E.OGPUError,
    "TxRevertError": E.TxRevertError,
    "PermissionError": E.TxRevertError,
    "StateError": E.TxRevertError,
    "VaultError": E.TxRevertError,
    "NonceError": E.TxError,
    "GasError": E.TxError,
    "MissingSignerError": E.SignerError,
    "InvalidSignerError": E.SignerError,
    "SourceNotFoundError": E.NotFoundError,
    "TaskNotFoundError": E.NotFoundError,
    "ResponseNotFoundError": E.NotFoundError,
    "ProviderNotFoundError": E.NotFoundError,
    "MasterNotFoundError": E.NotFoundError,
    "NotSourceOwnerError": E.PermissionError,
    "NotTaskOwnerError": E.PermissionError,
    "SourceInactiveError": E.StateError,
    "TaskExpiredError": E.StateError,
    "TaskAlreadyFinalizedError": E.StateError,
    "ResponseAlreadyConfirmedError": E.StateError,
    "InsufficientBalanceError": E.VaultError,
    "InsufficientLockupError": E.VaultError,
    "UnbondingPeriodNotElapsedError": E.VaultError,
    "IPFSFetchError": E.IPFSError,
    "IPFSGatewayError": E.IPFSError,
    "IPFSUploadError": E.IPFSError,
}


def error_string(reason: str) -> bytes:
    return ERROR_STRING + encode(["string"], [reason])


def test_seed_classes_exist_in_their_groups() -> None:
    for name, group in SEED_CLASSES.items():
        cls = getattr(E, name)
        assert issubclass(cls, group) and issubclass(cls, E.OGPUError), name
        assert name in PUBLIC


def test_builtin_compatibility() -> None:
    assert issubclass(E.PermissionError, builtins.PermissionError)
    assert E.PermissionError is not builtins.PermissionError
    assert issubclass(E.InvalidInputError, ValueError)
    for cls in (E.InvalidAddressError, E.InvalidAmountError, E.InvalidEnumValueError):
        assert issubclass(cls, E.InvalidInputError)
    err = E.NotTaskOwnerError(message="nope", reason="NotOwner")
    with pytest.raises(builtins.PermissionError):
        raise err
    assert str(err) == "nope" and err.errno is None
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is E.NotTaskOwnerError and clone.reason == "NotOwner"


def test_messages_attributes_and_repr() -> None:
    err = E.InsufficientBalanceError(required=10, available=3, tx_hash="0xab")
    assert err.required == 10 and err.available == 3 and err.tx_hash == "0xab"
    assert err.reason is None and err.data is None
    assert str(err) == E.InsufficientBalanceError.default_message
    assert "deposit" in str(err)
    assert repr(err) == f"InsufficientBalanceError({E.InsufficientBalanceError.default_message!r})"
    custom = E.TaskExpiredError(message="task 0x1 expired", expiry=5)
    assert repr(custom) == "TaskExpiredError('task 0x1 expired')" and custom.expiry == 5
    official = E.TaskExpiredError("0x1", 5)  # the official SDK's positional arguments
    assert (official.task, official.expiry) == ("0x1", 5) and "0x1" in str(official)
    with pytest.raises(TypeError):
        E.InvalidAmountError("x", 5)  # type: ignore[misc]  # other attributes are keyword-only
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is E.InsufficientBalanceError and clone.required == 10
    assert str(clone) == str(err)
    assert issubclass(E.ReceiptTimeoutError, E.TxMayHaveLandedError)
    assert E.FunctionNotOnNetworkError(function="f", network="n").network == "n"


def test_every_class_has_a_default_message_and_doc() -> None:
    assert len(PUBLIC) > 60
    for name in PUBLIC:
        obj = getattr(E, name)
        if isinstance(obj, type) and issubclass(obj, E.OGPUError):
            assert obj.default_message.endswith(".") and obj.__doc__, name


@pytest.mark.parametrize(("reason", "cls"), sorted(REASONS.items()), ids=lambda v: str(v))
def test_decode_error_string_reasons(reason: str, cls: type[E.TxRevertError]) -> None:
    data = error_string(reason)
    err = E.decode_revert(data, contract="Nexus", function="attempt")
    assert type(err) is cls
    assert (err.reason, err.data, err.contract, err.function) == (reason, data, "Nexus", "attempt")
    assert str(err).startswith(f"Nexus.attempt reverted with {reason!r}: ")
    assert E.REVERT_REASONS[reason] is cls


@pytest.mark.parametrize(
    ("contract", "function", "expected"),
    [
        ("Controller", "cancelTask", E.NotTaskOwnerError),
        ("Controller", "confirmResponse", E.NotTaskOwnerError),
        ("Task", "setStatus", E.NotTaskOwnerError),
        ("Task", None, E.NotTaskOwnerError),
        ("Controller", "publishTask", E.NotSourceOwnerError),
        ("Nexus", "updateSource", E.NotSourceOwnerError),
        ("Source", "setStatus", E.NotSourceOwnerError),
        (None, None, E.NotSourceOwnerError),
    ],
)
def test_not_owner_overrides(
    contract: str | None, function: str | None, expected: type[E.TxRevertError]
) -> None:
    err = E.decode_revert(error_string("NotOwner"), contract=contract, function=function)
    assert type(err) is expected


def test_unknown_reason_stays_plain() -> None:
    err = E.decode_revert(error_string("Ownable: something else"), contract="Vault")
    assert type(err) is E.TxRevertError and err.reason == "Ownable: something else"
    assert E.revert_class_for("PaymentTooLow: need 5") is E.PaymentTooLowError


def test_panic() -> None:
    data = PANIC + encode(["uint256"], [0x11])
    err = E.decode_revert(data, contract="Vault", function="withdraw")
    assert type(err) is E.PanicError and err.code == 0x11
    assert "overflow" in str(err) and err.reason == "Panic(0x11)"


def test_custom_errors_by_selector() -> None:
    account = "0x" + "1f" * 20
    role = keccak(text="PROVIDER")
    selector = keccak(text="AccessControlUnauthorizedAccount(address,bytes32)")[:4]
    err = E.decode_revert(selector + encode(["address", "bytes32"], [account, role]))
    assert type(err) is E.AccessControlUnauthorizedAccountError
    assert isinstance(err, E.PermissionError)
    assert err.account == to_checksum_address(account) and err.needed_role == role
    assert err.reason == "AccessControlUnauthorizedAccount"
    bare = keccak(text="AccessControlBadConfirmation()")[:4]
    assert type(E.decode_revert(bare)) is E.AccessControlBadConfirmationError
    owner_sel = keccak(text="OwnableInvalidOwner(address)")[:4]
    owner_err = E.decode_revert(owner_sel + encode(["address"], ["0x" + "00" * 20]))
    assert isinstance(owner_err, E.OwnableInvalidOwnerError)
    assert owner_err.owner == "0x" + "00" * 20


def test_empty_unknown_and_malformed_data() -> None:
    empty = E.decode_revert(b"", contract="Task", function="attempt")
    assert type(empty) is E.TxRevertError and empty.reason is None
    assert "without a reason" in str(empty)
    unknown = E.decode_revert(b"\xde\xad\xbe\xef" + b"\x00" * 40)
    assert type(unknown) is E.TxRevertError and "0xdeadbeef" in str(unknown)
    truncated = E.decode_revert(keccak(text="OwnableUnauthorizedAccount(address)")[:4] + b"\x01")
    assert type(truncated) is E.TxRevertError
    assert type(E.decode_revert(ERROR_STRING + b"\x00" * 3)) is E.TxRevertError


# -- the same through a real EVM ------------------------------------------------------------------


def test_reverts_from_a_real_evm_become_typed_errors(
    chain: Chain, reverter: Callable[[bytes], str]
) -> None:
    not_owner = reverter(error_string("NotOwner"))
    with pytest.raises(E.NotTaskOwnerError) as info:
        task.get_status(chain.w3, not_owner)
    assert info.value.contract == "Task" and info.value.function == "getStatus"
    assert info.value.data == error_string("NotOwner")
    with pytest.raises(E.NotSourceOwnerError):
        controller.owner(chain.w3, not_owner)

    selector = keccak(text="OwnableUnauthorizedAccount(address)")[:4]
    custom = reverter(selector + encode(["address"], ["0x" + "22" * 20]))
    with pytest.raises(E.OwnableUnauthorizedAccountError) as cinfo:
        nexus.owner(chain.w3, custom)
    assert cinfo.value.account == "0x" + "22" * 20

    panic = reverter(PANIC + encode(["uint256"], [0x12]))
    with pytest.raises(E.PanicError) as pinfo:
        vault.get_balance_of(chain.w3, panic, "0x" + "33" * 20)
    assert pinfo.value.code == 0x12

    bare = reverter(b"")
    with pytest.raises(E.TxRevertError) as binfo:
        vault.unbonding_period(chain.w3, bare)
    assert type(binfo.value) is E.TxRevertError and binfo.value.data == b""


def test_revert_from_exception_on_a_transaction(
    chain: Chain, reverter: Callable[[bytes], str]
) -> None:
    target = reverter(error_string("InsufficientBalance"))
    req = vault.withdraw(target, 5)
    with pytest.raises(Exception) as info:
        chain.transact(req.to, req.data)
    err = E.revert_from_exception(info.value, contract=req.contract, function=req.function)
    assert type(err) is E.InsufficientBalanceError
    assert (err.contract, err.function, err.reason) == ("Vault", "withdraw", "InsufficientBalance")
    assert E.revert_from_exception(ValueError("boom")) is None


def test_custom_error_with_enum_and_struct_arguments(fixture_bindings: ModuleType) -> None:
    fx_errors = import_sub(fixture_bindings, "errors")
    kind = import_sub(fixture_bindings, "enums").Kind
    inner = import_sub(fixture_bindings, "structs")
    selector = keccak(text="BadKind(uint8,(int128,bytes32,uint8))")[:4]
    data = selector + encode(["uint8", "(int128,bytes32,uint8)"], [2, (-7, b"\x01" * 32, 5)])
    err = fx_errors.decode_revert(data, contract="Widget", function="fund")
    assert type(err) is fx_errors.BadKindError and err.kind is kind.LARGE
    assert err.inner == inner.Inner(delta=-7, tag=b"\x01" * 32, flags=5)
    assert fx_errors.CUSTOM_ERRORS["0x" + selector.hex()] is fx_errors.BadKindError
    assert not issubclass(fx_errors.BadKindError, fx_errors.PermissionError)
    bad = selector + encode(["uint8", "(int128,bytes32,uint8)"], [9, (0, b"\x00" * 32, 0)])
    assert type(fx_errors.decode_revert(bad)) is fx_errors.TxRevertError
