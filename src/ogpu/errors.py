"""Every error the ogpu SDK raises, one tree rooted at :class:`OGPUError`: input
(InvalidInputError, also a ValueError), configuration (ConfigError, SignerError), lookups
(NotFoundError), RPC (RPCError), IPFS (IPFSError) and transactions (TxError). The contract
errors under :class:`TxRevertError` (PanicError, PermissionError, StateError, VaultError, the
Solidity custom errors) are generated into ``ogpu_bindings.errors`` with the revert tables;
``ogpu.types.errors`` re-exports both. Every class takes an optional message (the default says
what happened and what to do) and keyword-only attributes, None by default; a class of the
official SDK takes its positional arguments first (``ChainNotSupportedError(chain_id)``) and
builds the message from them. Errors pickle with their attributes; none holds a private key.

One mechanism builds them all: a class declares its attributes as dataclass fields (in the
official positional order; ``_: KW_ONLY`` before the keyword-only ones, ``message`` among them
for an official class), and :meth:`OGPUError.__post_init__` fills the message from the
class's ``official`` templates, or its ``default_message``.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from reprlib import Repr as _Repr
from string import Formatter
from typing import Any, ClassVar

_FORMATTER = Formatter()
_REPR = _Repr()
_REPR.maxstring = _REPR.maxother = 40


def shown(value: object) -> str:
    """``value`` for an error message: a short repr that never raises (a huge, deeply nested
    or hostile value - one whose ``__repr__`` raises - would otherwise replace the typed error
    being built with a RecursionError or the value's own exception). No I/O."""
    try:
        return _REPR.repr(value)
    except Exception:  # any failure of the caller's __repr__
        return f"<{type(value).__name__} object>"


def _rebuild(cls: type[OGPUError], message: str) -> OGPUError:
    """Unpickle: ``cls`` with ``message`` (``__reduce__``'s state restores the attributes)."""
    error = cls.__new__(cls)
    error.message = message
    Exception.__init__(error, message)
    return error


@dataclass(eq=False, repr=False)
class OGPUError(Exception):
    """Root of every error the ogpu SDK raises; catch it for broad handling."""

    default_message: ClassVar[str] = "The OpenGPU SDK reported an error."
    #: The official SDK's messages, tried in order: the first whose fields are all known.
    official: ClassVar[tuple[str, ...]] = ()
    message: str | None = None

    def __post_init__(self) -> None:
        if self.message is None:
            self.message = self._official() or self.default_message
        Exception.__init__(self, self.message)

    def _official(self) -> str | None:
        for template in self.official:
            values = {n: getattr(self, n) for _, n, _, _ in _FORMATTER.parse(template) if n}
            if all(v is not None for v in values.values()):
                return template.format(**values)
        return None

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from the message alone, then the attributes; never through the positional
        # arguments a subclass may take first
        return (_rebuild, (self.__class__, self.message), self.__dict__)

    def __str__(self) -> str:
        return self.message or self.default_message


@dataclass(eq=False, repr=False)
class AbiDecodeError(OGPUError):
    """Return, log or revert data does not match the ABI (``signature`` being decoded)."""

    default_message = "The data does not match the ABI; check the address holds that contract."
    _: KW_ONLY
    signature: str | None = None


@dataclass(eq=False, repr=False)
class FunctionNotOnNetworkError(OGPUError):
    """``function`` is not deployed on ``network`` (it is on another one); raised before any RPC."""

    default_message = "This function is not deployed on this network; use one that has it."
    _: KW_ONLY
    function: str | None = None
    network: str | None = None


@dataclass(eq=False, repr=False)
class RPCError(OGPUError):
    """The JSON-RPC request ``method`` failed (connection, timeout, node error): ``cause``."""

    default_message = "The RPC request failed; check the node URL and connectivity, then retry."
    _: KW_ONLY
    method: str | None = None
    cause: str | None = None


class ConfigError(OGPUError):
    """The SDK's configuration (network, chain, ABIs, endpoints) is invalid or incomplete."""

    default_message = "The SDK configuration is invalid; check the network and its settings."


@dataclass(eq=False, repr=False)
class AbiNotFoundError(ConfigError, FileNotFoundError):
    """No ABI for the contract ``abi_name`` on ``network``; also the FileNotFoundError
    0.2.3's ``ChainConfig.load_abi`` raised."""

    default_message = "No ABI for this contract on this network; check the name and network."
    _: KW_ONLY
    abi_name: str | None = None
    network: str | None = None


@dataclass(eq=False, repr=False)
class ChainNotSupportedError(ConfigError):
    """The chain id is not one of the networks the SDK knows (``chain_id``)."""

    default_message = "Unsupported chain; use mainnet, testnet or devnet, or register it."
    official = ("chain {chain_id} is not supported",)
    chain_id: int | None = None
    _: KW_ONLY
    message: str | None = None


class UnknownChainError(ChainNotSupportedError, ValueError):
    """A chain argument is no supported chain id; also a ValueError, as 0.2.3's Web3 getters
    raised for one."""


class SignerError(ConfigError):
    """No usable signer for a write operation."""

    default_message = "No usable signer; pass signer= or set the role's *_PRIVATE_KEY variable."


@dataclass(eq=False, repr=False)
class InvalidSignerError(SignerError):
    """The signer is no private key or LocalAccount (``reason``; the key never shows)."""

    default_message = "The signer is unusable; pass a 32-byte hex key or a LocalAccount."
    official = ("the signer is unusable: {reason}",)
    reason: str | None = None
    _: KW_ONLY
    message: str | None = None
    role: str | None = None


@dataclass(eq=False, repr=False)
class MissingSignerError(SignerError):
    """No signer given and no env-var fallback for ``role`` (vault calls never fall back)."""

    default_message = (
        "No signer given; pass signer= (a hex private key or a LocalAccount) or set the role's "
        "env var."
    )
    official = ("no signer given and no key set for the {role} role",)
    role: str | None = None
    _: KW_ONLY
    message: str | None = None


@dataclass(eq=False, repr=False)
class InvalidInputError(OGPUError, ValueError):
    """A value passed to the SDK (``param``) is invalid; raised before any RPC."""

    default_message = "An argument is invalid; fix the value and call again."
    _: KW_ONLY
    param: str | None = None


class InvalidAddressError(InvalidInputError):
    """An address parameter is not a 0x-prefixed 20-byte hex string (or fails its checksum)."""

    default_message = "Expected a 0x-prefixed 40-hex-digit address (checksummed or all one case)."


class InvalidReceiptError(InvalidInputError, KeyError, AttributeError):
    """No receipt: ``Receipt.from_web3_receipt`` got a mapping with a field missing (a
    KeyError too, as 0.2.3 raised) or malformed (a quantity, an address, a log), or a
    function taking a ``Receipt`` got something else (an AttributeError in 0.2.3)."""

    default_message = "Not a mined receipt; pass what web3's get_transaction_receipt returns."


@dataclass(eq=False, repr=False)
class InvalidAmountError(InvalidInputError):
    """An int parameter is not an int or is outside ``minimum``..``maximum``."""

    default_message = "Expected an integer within the range of the Solidity type."
    _: KW_ONLY
    value: int | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(eq=False, repr=False)
class InvalidEnumValueError(InvalidInputError):
    """An enum parameter is neither a member of ``enum_name`` nor an int naming one."""

    default_message = "Expected a member of the enum or its integer value."
    _: KW_ONLY
    enum_name: str | None = None
    value: int | None = None


def not_a_member(enum: type[Any], value: object) -> InvalidEnumValueError:
    """The error of ``enum(value)`` for a value naming no member: enums' ``_missing_``
    raises it, so the call raises a typed ValueError (Python's own is a plain one)."""
    names = ", ".join(f"{m.name}={m.value!r}" for m in enum)
    return InvalidEnumValueError(
        message=f"{shown(value)} is not a {enum.__name__}; pass one of {names}",
        enum_name=enum.__name__,
    )


class InvalidEnvironmentError(InvalidEnumValueError, TypeError, AttributeError):
    """An environment or mask is no ``Environment`` nor int; also the TypeError and
    AttributeError 0.2.3's ``parse_environments``/``combine_environments`` raised."""

    default_message = "Expected an Environment (CPU, NVIDIA, AMD) or an int bit mask of them."


class InvalidParamsError(InvalidInputError):
    """A parameter has the wrong type or shape (bool, string, bytes, list, struct, params)."""

    default_message = "A parameter has the wrong type or shape; check the function's signature."


@dataclass(eq=False, repr=False)
class NotFoundError(OGPUError):
    """An address (``address``) does not hold the expected contract or role."""

    default_message = "Nothing of the expected kind is at this address; check it and the network."
    _: KW_ONLY
    address: str | None = None


@dataclass(eq=False, repr=False)
class _AddressNotFound(NotFoundError):
    """A NotFoundError built as the official SDK does: ``Cls(address)``."""

    address: str | None = None
    _: KW_ONLY
    message: str | None = None


class MasterNotFoundError(_AddressNotFound):
    """The address has not announced itself as a master (Terminal.isMaster is false)."""

    default_message = "Not a master; the provider must announce it first (announceMaster)."
    official = ("{address} is not a registered master",)


class ProviderNotFoundError(_AddressNotFound):
    """The address has not been announced as a provider (Terminal.isProvider is false)."""

    default_message = "Not a provider; a master must announce it first (announceProvider)."
    official = ("{address} is not a registered provider",)


class ResponseNotFoundError(_AddressNotFound):
    """The address is not a Response contract on this network."""

    default_message = "No Response contract at this address; check it and the network."
    official = ("no Response contract at {address}",)


class SourceNotFoundError(_AddressNotFound):
    """The address is not a Source contract on this network."""

    default_message = "No Source contract at this address; check it and the network."
    official = ("no Source contract at {address}",)


class TaskNotFoundError(_AddressNotFound):
    """The address is not a Task contract on this network."""

    default_message = "No Task contract at this address; check it and the network."
    official = ("no Task contract at {address}",)


@dataclass(eq=False, repr=False)
class IPFSError(OGPUError):
    """Off-chain content (IPFS) could not be stored or fetched. ``url``: the URL requested."""

    default_message = "The IPFS operation failed; check the gateway/API URL and retry."
    _: KW_ONLY
    url: str | None = None


_FETCH_FAILED = "fetching {url} failed: {reason}"


@dataclass(eq=False, repr=False)
class IPFSFetchError(IPFSError):
    """Fetching ``url`` failed: network error, timeout or invalid JSON (``reason``)."""

    default_message = "Fetching the content failed (network, timeout or bad JSON); retry."
    official: ClassVar[tuple[str, ...]] = (_FETCH_FAILED,)
    url: str | None = None
    reason: str | None = None
    _: KW_ONLY
    message: str | None = None


@dataclass(eq=False, repr=False)
class IPFSGatewayError(IPFSFetchError):
    """The gateway (``gateway``) answered with a non-200 HTTP status (``status_code``)."""

    default_message = "The IPFS gateway answered an error status; retry or use another one."
    official: ClassVar[tuple[str, ...]] = ("{gateway} answered HTTP {status_code}", _FETCH_FAILED)
    gateway: str | None = None
    status_code: int | None = None
    _: KW_ONLY
    url: str | None = None
    reason: str | None = None


class IPFSUploadError(IPFSFetchError):
    """Uploading (pinning) content failed; an IPFSFetchError, as in the official SDK."""

    default_message = "Uploading the content failed; check the upload endpoint and retry."


@dataclass(eq=False, repr=False)
class IPFSUploadRefusedError(IPFSUploadError, IPFSGatewayError):
    """The upload endpoint answered an HTTP error; an IPFSGatewayError, as in the official SDK."""

    default_message = "The upload endpoint refused the content; check it and the content."
    official = (_FETCH_FAILED,)
    message: str | None = None
    _: KW_ONLY
    url: str | None = None
    reason: str | None = None
    gateway: str | None = None
    status_code: int | None = None


@dataclass(eq=False, repr=False)
class TxError(OGPUError):
    """A transaction (or the call simulating it) failed; ``tx_hash`` once broadcast."""

    default_message = "The transaction failed."
    _: KW_ONLY
    tx_hash: str | None = None


@dataclass(eq=False, repr=False)
class GasError(TxError):
    """Gas estimation or pricing failed (underpriced, out of gas, fee cap too low)."""

    default_message = "Gas could not be estimated or priced; check the fee settings and balance."
    official = ("gas: {reason}",)
    reason: str | None = None
    _: KW_ONLY
    message: str | None = None


@dataclass(eq=False, repr=False)
class InvalidRpcUrlError(TxError, ConfigError):
    """An RPC URL (``url``) is malformed, unreachable, or serves another chain than expected."""

    default_message = "The RPC URL is unusable; check it and that it serves the chain."
    official = ("cannot use the RPC URL {url}",)
    url: str | None = None
    _: KW_ONLY
    message: str | None = None


@dataclass(eq=False, repr=False)
class NonceError(TxError):
    """Nonce collisions exhausted the retries (``tried`` refused, ``suggested`` expected)."""

    default_message = "The nonce kept colliding; wait for pending transactions, then retry."
    official = ("nonce {tried} of {address} was refused; the node expects {suggested}",)
    address: str | None = None
    tried: int | None = None
    suggested: int | None = None
    _: KW_ONLY
    message: str | None = None


class TxMayHaveLandedError(TxError):
    """The transaction was broadcast but its outcome is unknown; do not blindly resend it."""

    default_message = "Sent, outcome unknown; look up tx_hash before resending."


class ReceiptTimeoutError(TxMayHaveLandedError):
    """No receipt arrived in time for a broadcast transaction (so it may still land)."""

    default_message = "No receipt in time; it may still be mined: look up tx_hash first."


@dataclass(eq=False, repr=False)
class TxReceiptTimeoutError(ReceiptTimeoutError):
    """No receipt within ``timeout`` seconds of the broadcast (the official SDK's name)."""

    official = ("no receipt for {tx_hash} within {timeout} s; it may still be mined",)
    tx_hash: str | None = None
    timeout: float | None = None
    _: KW_ONLY
    message: str | None = None


@dataclass(eq=False, repr=False)
class TxRpcError(TxError, RPCError):
    """The node failed while sending a transaction; also an RPCError."""

    default_message = "The node failed while sending; look up tx_hash (if set) before resending."
    official = ("RPC error: {reason}",)
    reason: str | None = None
    _: KW_ONLY
    message: str | None = None


@dataclass(eq=False, repr=False)
class PublishTimeoutError(TxError):
    """The publish budget ran out in or before ``stage``; nothing was broadcast."""

    default_message = "The total timeout ran out before sending; nothing was sent, retry is safe."
    official = ("the {budget} s total budget ran out during: {stage}",)
    budget: float | None = None
    stage: str | None = None
    _: KW_ONLY
    message: str | None = None


@dataclass(eq=False, repr=False)
class TxRevertError(TxError):
    """The contract reverted; known reasons decode to subclasses (``ogpu_bindings.errors``)."""

    default_message = "The contract rejected the call; read the reason, fix state or arguments."
    official = ("the transaction reverted: {reason}",)
    reason: str | None = None
    _: KW_ONLY
    message: str | None = None
    data: bytes | None = None
    contract: str | None = None
    function: str | None = None
