"""Every error the ogpu SDK raises, one tree rooted at :class:`OGPUError`: input
(InvalidInputError, also a ValueError), configuration (ConfigError, SignerError), lookups
(NotFoundError), RPC (RPCError), IPFS (IPFSError) and transactions (TxError). The contract
errors under :class:`TxRevertError` (PanicError, PermissionError, StateError, VaultError, the
Solidity custom errors) are generated into ``ogpu_bindings.errors`` with the revert tables;
``ogpu.types.errors`` re-exports both. Every class takes an optional message (the default says
what happened and what to do) and keyword-only attributes, None by default; a class of the
official SDK takes its positional arguments first (``ChainNotSupportedError(chain_id)``) and
builds the message from them. Errors pickle with their attributes; none holds a private key.
"""

from __future__ import annotations

from typing import Any, ClassVar


def _official(message: str | None, template: str, **values: object) -> str | None:
    """``message``, else the official SDK's message when every value it names is known."""
    if message is None and all(v is not None for v in values.values()):
        return template.format(**values)
    return message


def _rebuild(cls: type[OGPUError], message: str) -> OGPUError:
    """Unpickle: ``cls`` with ``message`` (``__reduce__``'s state restores the attributes)."""
    error = cls.__new__(cls)
    OGPUError.__init__(error, message)
    return error


class OGPUError(Exception):
    """Root of every error the ogpu SDK raises; catch it for broad handling."""

    default_message: ClassVar[str] = "The OpenGPU SDK reported an error."

    def __init__(self, message: str | None = None) -> None:
        self.message: str = message if message is not None else self.default_message
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from the message alone, then the attributes; never through the positional
        # arguments a subclass may take first
        return (_rebuild, (self.__class__, self.message), self.__dict__)

    def __str__(self) -> str:
        return self.message


class AbiDecodeError(OGPUError):
    """Return, log or revert data does not match the ABI (``signature`` being decoded)."""

    default_message = "The data does not match the ABI; check the address holds that contract."

    def __init__(self, message: str | None = None, *, signature: str | None = None) -> None:
        super().__init__(message)
        self.signature = signature


class FunctionNotOnNetworkError(OGPUError):
    """``function`` is not deployed on ``network`` (it is on another one); raised before any RPC."""

    default_message = "This function is not deployed on this network; use one that has it."

    def __init__(
        self, message: str | None = None, *, function: str | None = None, network: str | None = None
    ) -> None:
        super().__init__(message)
        self.function = function
        self.network = network


class RPCError(OGPUError):
    """The JSON-RPC request ``method`` failed (connection, timeout, node error): ``cause``."""

    default_message = "The RPC request failed; check the node URL and connectivity, then retry."

    def __init__(
        self, message: str | None = None, *, method: str | None = None, cause: str | None = None
    ) -> None:
        super().__init__(message)
        self.method = method
        self.cause = cause


class ConfigError(OGPUError):
    """The SDK's configuration (network, chain, ABIs, endpoints) is invalid or incomplete."""

    default_message = "The SDK configuration is invalid; check the network and its settings."


class AbiNotFoundError(ConfigError):
    """No ABI for the contract ``abi_name`` on ``network``."""

    default_message = "No ABI for this contract on this network; check the name and network."

    def __init__(
        self, message: str | None = None, *, abi_name: str | None = None, network: str | None = None
    ) -> None:
        super().__init__(message)
        self.abi_name = abi_name
        self.network = network


class ChainNotSupportedError(ConfigError):
    """The chain id is not one of the networks the SDK knows (``chain_id``)."""

    default_message = "Unsupported chain; use mainnet, testnet or devnet, or register it."

    def __init__(self, chain_id: int | None = None, *, message: str | None = None) -> None:
        super().__init__(_official(message, "chain {c} is not supported", c=chain_id))
        self.chain_id = chain_id


class SignerError(ConfigError):
    """No usable signer for a write operation."""

    default_message = "No usable signer; pass signer= or set the role's *_PRIVATE_KEY variable."


class InvalidSignerError(SignerError):
    """The signer is no private key or LocalAccount (``reason``; the key never shows)."""

    default_message = "The signer is unusable; pass a 32-byte hex key or a LocalAccount."

    def __init__(
        self, reason: str | None = None, *, message: str | None = None, role: str | None = None
    ) -> None:
        super().__init__(_official(message, "the signer is unusable: {r}", r=reason))
        self.role = role
        self.reason = reason


class MissingSignerError(SignerError):
    """No signer given and no env-var fallback for ``role`` (vault calls never fall back)."""

    default_message = (
        "No signer given; pass signer= (a hex private key or a LocalAccount) or set the role's "
        "env var."
    )

    def __init__(self, role: str | None = None, *, message: str | None = None) -> None:
        template = "no signer given and no key set for the {r} role"
        super().__init__(_official(message, template, r=role))
        self.role = role


class InvalidInputError(OGPUError, ValueError):
    """A value passed to the SDK (``param``) is invalid; raised before any RPC."""

    default_message = "An argument is invalid; fix the value and call again."

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class InvalidAddressError(InvalidInputError):
    """An address parameter is not a 0x-prefixed 20-byte hex string (or fails its checksum)."""

    default_message = "Expected a 0x-prefixed 40-hex-digit address (checksummed or all one case)."


class InvalidAmountError(InvalidInputError):
    """An int parameter is not an int or is outside ``minimum``..``maximum``."""

    default_message = "Expected an integer within the range of the Solidity type."

    def __init__(
        self,
        message: str | None = None,
        *,
        param: str | None = None,
        value: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.value = value
        self.minimum = minimum
        self.maximum = maximum


class InvalidEnumValueError(InvalidInputError):
    """An enum parameter is neither a member of ``enum_name`` nor an int naming one."""

    default_message = "Expected a member of the enum or its integer value."

    def __init__(
        self,
        message: str | None = None,
        *,
        param: str | None = None,
        enum_name: str | None = None,
        value: int | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.enum_name = enum_name
        self.value = value


class InvalidParamsError(InvalidInputError):
    """A parameter has the wrong type or shape (bool, string, bytes, list, struct, params)."""

    default_message = "A parameter has the wrong type or shape; check the function's signature."


class NotFoundError(OGPUError):
    """An address (``address``) does not hold the expected contract or role."""

    default_message = "Nothing of the expected kind is at this address; check it and the network."

    def __init__(self, message: str | None = None, *, address: str | None = None) -> None:
        super().__init__(message)
        self.address = address


class _AddressNotFound(NotFoundError):
    """A NotFoundError built as the official SDK does: ``Cls(address)``."""

    official_message: ClassVar[str]

    def __init__(self, address: str | None = None, *, message: str | None = None) -> None:
        super().__init__(_official(message, self.official_message, a=address), address=address)


class MasterNotFoundError(_AddressNotFound):
    """The address has not announced itself as a master (Terminal.isMaster is false)."""

    default_message = "Not a master; the provider must announce it first (announceMaster)."
    official_message = "{a} is not a registered master"


class ProviderNotFoundError(_AddressNotFound):
    """The address has not been announced as a provider (Terminal.isProvider is false)."""

    default_message = "Not a provider; a master must announce it first (announceProvider)."
    official_message = "{a} is not a registered provider"


class ResponseNotFoundError(_AddressNotFound):
    """The address is not a Response contract on this network."""

    default_message = "No Response contract at this address; check it and the network."
    official_message = "no Response contract at {a}"


class SourceNotFoundError(_AddressNotFound):
    """The address is not a Source contract on this network."""

    default_message = "No Source contract at this address; check it and the network."
    official_message = "no Source contract at {a}"


class TaskNotFoundError(_AddressNotFound):
    """The address is not a Task contract on this network."""

    default_message = "No Task contract at this address; check it and the network."
    official_message = "no Task contract at {a}"


class IPFSError(OGPUError):
    """Off-chain content (IPFS) could not be stored or fetched. ``url``: the URL requested."""

    default_message = "The IPFS operation failed; check the gateway/API URL and retry."

    def __init__(self, message: str | None = None, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class IPFSFetchError(IPFSError):
    """Fetching ``url`` failed: network error, timeout or invalid JSON (``reason``)."""

    default_message = "Fetching the content failed (network, timeout or bad JSON); retry."

    def __init__(
        self, url: str | None = None, reason: str | None = None, *, message: str | None = None
    ) -> None:
        template = "fetching {u} failed: {r}"
        super().__init__(_official(message, template, u=url, r=reason), url=url)
        self.reason = reason


class IPFSGatewayError(IPFSFetchError):
    """The gateway (``gateway``) answered with a non-200 HTTP status (``status_code``)."""

    default_message = "The IPFS gateway answered an error status; retry or use another one."

    def __init__(
        self,
        gateway: str | None = None,
        status_code: int | None = None,
        *,
        message: str | None = None,
        url: str | None = None,
        reason: str | None = None,
    ) -> None:
        message = _official(message, "{g} answered HTTP {s}", g=gateway, s=status_code)
        super().__init__(url, reason, message=message)
        self.status_code = status_code
        self.gateway = gateway


class IPFSUploadError(IPFSFetchError):
    """Uploading (pinning) content failed; an IPFSFetchError, as in the official SDK."""

    default_message = "Uploading the content failed; check the upload endpoint and retry."


class IPFSUploadRefusedError(IPFSUploadError, IPFSGatewayError):
    """The upload endpoint answered an HTTP error; an IPFSGatewayError, as in the official SDK."""

    default_message = "The upload endpoint refused the content; check it and the content."

    def __init__(
        self,
        message: str | None = None,
        *,
        url: str | None = None,
        reason: str | None = None,
        status_code: int | None = None,
        gateway: str | None = None,
    ) -> None:
        IPFSFetchError.__init__(self, url, reason, message=message)
        self.status_code = status_code
        self.gateway = gateway


class TxError(OGPUError):
    """A transaction (or the call simulating it) failed; ``tx_hash`` once broadcast."""

    default_message = "The transaction failed."

    def __init__(self, message: str | None = None, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class GasError(TxError):
    """Gas estimation or pricing failed (underpriced, out of gas, fee cap too low)."""

    default_message = "Gas could not be estimated or priced; check the fee settings and balance."

    def __init__(
        self, reason: str | None = None, *, message: str | None = None, tx_hash: str | None = None
    ) -> None:
        super().__init__(_official(message, "gas: {r}", r=reason), tx_hash=tx_hash)
        self.reason = reason


class InvalidRpcUrlError(TxError, ConfigError):
    """An RPC URL (``url``) is malformed, unreachable, or serves another chain than expected."""

    default_message = "The RPC URL is unusable; check it and that it serves the chain."

    def __init__(
        self, url: str | None = None, *, message: str | None = None, tx_hash: str | None = None
    ) -> None:
        super().__init__(_official(message, "cannot use the RPC URL {u}", u=url), tx_hash=tx_hash)
        self.url = url


class NonceError(TxError):
    """Nonce collisions exhausted the retries (``tried`` refused, ``suggested`` expected)."""

    default_message = "The nonce kept colliding; wait for pending transactions, then retry."

    def __init__(
        self,
        address: str | None = None,
        tried: int | None = None,
        suggested: int | None = None,
        *,
        message: str | None = None,
        tx_hash: str | None = None,
    ) -> None:
        template = "nonce {t} of {a} was refused; the node expects {s}"
        message = _official(message, template, a=address, t=tried, s=suggested)
        super().__init__(message, tx_hash=tx_hash)
        self.address = address
        self.tried = tried
        self.suggested = suggested


class TxMayHaveLandedError(TxError):
    """The transaction was broadcast but its outcome is unknown; do not blindly resend it."""

    default_message = "Sent, outcome unknown; look up tx_hash before resending."


class ReceiptTimeoutError(TxMayHaveLandedError):
    """No receipt arrived in time for a broadcast transaction (so it may still land)."""

    default_message = "No receipt in time; it may still be mined: look up tx_hash first."


class TxReceiptTimeoutError(ReceiptTimeoutError):
    """No receipt within ``timeout`` seconds of the broadcast (the official SDK's name)."""

    def __init__(
        self,
        tx_hash: str | None = None,
        timeout: float | None = None,
        *,
        message: str | None = None,
    ) -> None:
        template = "no receipt for {h} within {t} s; it may still be mined"
        super().__init__(_official(message, template, h=tx_hash, t=timeout), tx_hash=tx_hash)
        self.timeout = timeout


class TxRpcError(TxError, RPCError):
    """The node failed while sending a transaction; also an RPCError."""

    default_message = "The node failed while sending; look up tx_hash (if set) before resending."

    def __init__(
        self,
        reason: str | None = None,
        *,
        message: str | None = None,
        tx_hash: str | None = None,
        method: str | None = None,
        cause: str | None = None,
    ) -> None:
        super().__init__(_official(message, "RPC error: {r}", r=reason), tx_hash=tx_hash)
        self.reason = reason
        self.method = method
        self.cause = cause


class PublishTimeoutError(TxError):
    """The publish budget ran out in or before ``stage``; nothing was broadcast."""

    default_message = "The total timeout ran out before sending; nothing was sent, retry is safe."

    def __init__(
        self,
        budget: float | None = None,
        stage: str | None = None,
        *,
        message: str | None = None,
        tx_hash: str | None = None,
    ) -> None:
        template = "the {b} s total budget ran out during: {s}"
        super().__init__(_official(message, template, b=budget, s=stage), tx_hash=tx_hash)
        self.budget = budget
        self.stage = stage


class TxRevertError(TxError):
    """The contract reverted; known reasons decode to subclasses (``ogpu_bindings.errors``)."""

    default_message = "The contract rejected the call; read the reason, fix state or arguments."

    def __init__(
        self,
        reason: str | None = None,
        *,
        message: str | None = None,
        tx_hash: str | None = None,
        data: bytes | None = None,
        contract: str | None = None,
        function: str | None = None,
    ) -> None:
        message = _official(message, "the transaction reverted: {r}", r=reason)
        super().__init__(message, tx_hash=tx_hash)
        self.reason = reason
        self.data = data
        self.contract = contract
        self.function = function
