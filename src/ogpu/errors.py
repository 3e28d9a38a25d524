"""Every error the ogpu SDK raises, in one tree rooted at :class:`OGPUError`::

    OGPUError
    ├── AbiDecodeError, FunctionNotOnNetworkError, RPCError
    ├── ConfigError: AbiNotFoundError, ChainNotSupportedError, SignerError
    │   └── SignerError: InvalidSignerError, MissingSignerError
    ├── InvalidInputError (also a ValueError)
    │   └── InvalidAddressError, InvalidAmountError, InvalidEnumValueError, InvalidParamsError
    ├── NotFoundError: Master-, Provider-, Response-, Source-, TaskNotFoundError
    ├── IPFSError: IPFSFetchError: IPFSGatewayError, IPFSUploadError
    │   └── IPFSUploadError: IPFSUploadRefusedError (also an IPFSGatewayError)
    └── TxError
        ├── GasError, NonceError, InvalidRpcUrlError (also a ConfigError)
        ├── TxMayHaveLandedError: ReceiptTimeoutError
        └── TxRevertError: the contract errors (PanicError, PermissionError, StateError,
            VaultError and their subclasses, the Solidity custom errors), generated into
            ``ogpu_bindings.errors`` from ``abis/errors.json`` with the revert tables

``ogpu.types.errors`` re-exports this module and the contract errors. Every class takes the
message (optional: each has a default saying what happened and what to do) and keyword-only
attributes, all None by default; a class of the official SDK takes its positional arguments
first (``ChainNotSupportedError(chain_id)``) and builds the message from them. Errors pickle
with their attributes; none ever holds a private key. Standard library only.
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
    """Return, log or revert data does not match the ABI (wrong address, wrong network or
    outdated bindings). ``signature``: the Solidity signature being decoded."""

    default_message = (
        "The data does not match the ABI; check that the address holds the expected contract "
        "on this network."
    )

    def __init__(self, message: str | None = None, *, signature: str | None = None) -> None:
        super().__init__(message)
        self.signature = signature


class FunctionNotOnNetworkError(OGPUError):
    """The contract function or event exists on another network's deployment but not on this
    one; raised before any RPC. ``function``: its Solidity name; ``network``: the network (or
    ABI set) that lacks it."""

    default_message = (
        "This function is not deployed on the selected network; use a network that has it."
    )

    def __init__(
        self, message: str | None = None, *, function: str | None = None, network: str | None = None
    ) -> None:
        super().__init__(message)
        self.function = function
        self.network = network


class RPCError(OGPUError):
    """The JSON-RPC transport failed (connection, timeout, node error) before a result was
    obtained. ``method``: the JSON-RPC method; ``cause``: the text of the underlying failure."""

    default_message = "The RPC request failed; check the node URL and connectivity, then retry."

    def __init__(
        self, message: str | None = None, *, method: str | None = None, cause: str | None = None
    ) -> None:
        super().__init__(message)
        self.method = method
        self.cause = cause


class ConfigError(OGPUError):
    """The SDK's configuration (network, chain, ABIs, endpoints) is invalid or incomplete."""

    default_message = (
        "The SDK configuration is invalid; check the selected network and its settings."
    )


class AbiNotFoundError(ConfigError):
    """No ABI (or binding) exists for the requested contract on the selected network.
    ``abi_name``: the requested contract; ``network``: the network searched."""

    default_message = (
        "No ABI for this contract on this network; check the contract name and network."
    )

    def __init__(
        self, message: str | None = None, *, abi_name: str | None = None, network: str | None = None
    ) -> None:
        super().__init__(message)
        self.abi_name = abi_name
        self.network = network


class ChainNotSupportedError(ConfigError):
    """The chain id is not one of the networks the SDK knows (``chain_id``)."""

    default_message = (
        "This chain is not supported; use mainnet, testnet or devnet, or register the network."
    )

    def __init__(self, chain_id: int | None = None, *, message: str | None = None) -> None:
        super().__init__(_official(message, "chain {c} is not supported", c=chain_id))
        self.chain_id = chain_id


class SignerError(ConfigError):
    """No usable signer for a write operation."""

    default_message = "No usable signer; pass signer= or set the role's *_PRIVATE_KEY variable."


class InvalidSignerError(SignerError):
    """The signer is not a valid private key or LocalAccount; the key never appears in the
    error. ``role``: the role it was meant for; ``reason``: why it is unusable (never the key)."""

    default_message = (
        "The signer is not a valid private key or LocalAccount; pass a 32-byte hex key or a "
        "LocalAccount."
    )

    def __init__(
        self, reason: str | None = None, *, message: str | None = None, role: str | None = None
    ) -> None:
        super().__init__(_official(message, "the signer is unusable: {r}", r=reason))
        self.role = role
        self.reason = reason


class MissingSignerError(SignerError):
    """No signer was passed and no env-var fallback applies (vault calls never fall back).
    ``role``: the role whose env var was consulted, if any."""

    default_message = (
        "No signer given; pass signer= (a hex private key or a LocalAccount) or set the role's "
        "env var."
    )

    def __init__(self, role: str | None = None, *, message: str | None = None) -> None:
        template = "no signer given and no key set for the {r} role"
        super().__init__(_official(message, template, r=role))
        self.role = role


class InvalidInputError(OGPUError, ValueError):
    """A value passed to the SDK is invalid; raised before any RPC. Also a ValueError.
    ``param``: the name of the offending parameter."""

    default_message = "An argument is invalid; fix the value and call again."

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class InvalidAddressError(InvalidInputError):
    """An address parameter is not a 0x-prefixed 20-byte hex string (or fails its checksum)."""

    default_message = "Expected a 0x-prefixed 40-hex-digit address (checksummed or all one case)."


class InvalidAmountError(InvalidInputError):
    """An integer parameter is not an int or is outside the range of its Solidity type.
    ``value``: the rejected int; ``minimum``/``maximum``: the accepted range."""

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
    """An enum parameter is neither a member of its enum nor an int that maps to one.
    ``enum_name``: the expected enum; ``value``: the rejected int."""

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

    default_message = (
        "Nothing of the expected kind exists at this address; check the address and network."
    )

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

    default_message = (
        "This address is not a master; the provider must announce it first (announceMaster)."
    )
    official_message = "{a} is not a registered master"


class ProviderNotFoundError(_AddressNotFound):
    """The address has not been announced as a provider (Terminal.isProvider is false)."""

    default_message = (
        "This address is not a provider; a master must announce it first (announceProvider)."
    )
    official_message = "{a} is not a registered provider"


class ResponseNotFoundError(_AddressNotFound):
    """The address is not a Response contract on this network."""

    default_message = (
        "No Response contract at this address; check the address and the selected network."
    )
    official_message = "no Response contract at {a}"


class SourceNotFoundError(_AddressNotFound):
    """The address is not a Source contract on this network."""

    default_message = (
        "No Source contract at this address; check the address and the selected network."
    )
    official_message = "no Source contract at {a}"


class TaskNotFoundError(_AddressNotFound):
    """The address is not a Task contract on this network."""

    default_message = (
        "No Task contract at this address; check the address and the selected network."
    )
    official_message = "no Task contract at {a}"


class IPFSError(OGPUError):
    """Off-chain content (IPFS) could not be stored or fetched. ``url``: the URL requested."""

    default_message = "The IPFS operation failed; check the gateway/API URL and retry."

    def __init__(self, message: str | None = None, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class IPFSFetchError(IPFSError):
    """Fetching content failed: network error, timeout or invalid JSON. ``reason``: what went
    wrong, when known."""

    default_message = (
        "Fetching the content failed (network error, timeout or invalid JSON); check the URL "
        "and retry."
    )

    def __init__(
        self, url: str | None = None, reason: str | None = None, *, message: str | None = None
    ) -> None:
        template = "fetching {u} failed: {r}"
        super().__init__(_official(message, template, u=url, r=reason), url=url)
        self.reason = reason


class IPFSGatewayError(IPFSFetchError):
    """The gateway (``gateway``) answered with a non-200 HTTP status (``status_code``)."""

    default_message = (
        "The IPFS gateway answered with an error status; retry later or use another gateway."
    )

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
    """Uploading (pinning) content failed. Also an IPFSFetchError: the official SDK reports
    upload failures as one."""

    default_message = "Uploading the content failed; check the upload endpoint and retry."


class IPFSUploadRefusedError(IPFSUploadError, IPFSGatewayError):
    """The upload endpoint (``gateway``) answered with an HTTP error status (``status_code``).
    Also an IPFSGatewayError, as the official SDK raises."""

    default_message = (
        "The upload endpoint refused the content; check the endpoint, the content and its size."
    )

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
    """A transaction (or the call simulating it) failed. ``tx_hash``: its hash, when one was
    broadcast."""

    default_message = "The transaction failed."

    def __init__(self, message: str | None = None, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class GasError(TxError):
    """Gas estimation or pricing failed (underpriced replacement, out of gas, fee cap too low).
    ``reason``: what went wrong, when known."""

    default_message = (
        "The transaction's gas could not be estimated or priced; check the fee settings and "
        "balance."
    )

    def __init__(
        self, reason: str | None = None, *, message: str | None = None, tx_hash: str | None = None
    ) -> None:
        super().__init__(_official(message, "gas: {r}", r=reason), tx_hash=tx_hash)
        self.reason = reason


class InvalidRpcUrlError(TxError, ConfigError):
    """An RPC URL (``url``) is malformed, unreachable, or serves another chain than expected."""

    default_message = (
        "The RPC URL is unusable; check the URL and that the node serves the selected chain."
    )

    def __init__(
        self, url: str | None = None, *, message: str | None = None, tx_hash: str | None = None
    ) -> None:
        super().__init__(_official(message, "cannot use the RPC URL {u}", u=url), tx_hash=tx_hash)
        self.url = url


class NonceError(TxError):
    """Nonce collisions exhausted the retries. ``address``: the sender; ``tried``: the nonce
    refused; ``suggested``: the nonce the node expects (each when known)."""

    default_message = (
        "The nonce kept colliding with other transactions; wait for pending transactions, then "
        "retry."
    )

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

    default_message = (
        "The transaction was broadcast but its outcome is unknown; look up tx_hash before "
        "resending."
    )


class ReceiptTimeoutError(TxMayHaveLandedError):
    """No receipt arrived in time for a broadcast transaction (so it may still land)."""

    default_message = (
        "No receipt arrived in time; the transaction may still be mined, so look up tx_hash "
        "before resending."
    )


class TxRevertError(TxError):
    """The contract reverted. Known reasons decode to a subclass (``ogpu_bindings.errors``);
    unknown ones stay a plain TxRevertError. ``reason``: the revert reason or custom error
    name; ``data``: the raw revert data; ``contract``/``function``: the Solidity names called."""

    default_message = (
        "The contract rejected the call; read the reason and fix the state or arguments."
    )

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
