"""Nexus: sources, provider registrations and attempts.

Writes cost one transaction (see ``TxExecutor.execute``); reads one
``eth_call`` unless noted. Invalid arguments raise ``InvalidInputError``
subclasses before any RPC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu_bindings import nexus as nexus_abi

from ogpu.protocol import _bindings as b
from ogpu.protocol._common import transact
from ogpu.protocol._compat import official_names
from ogpu.protocol._paging import ListGetter, Paging, read_list
from ogpu.types.enums import Environment, Role
from ogpu.types.errors import InvalidEnumValueError, SourceNotFoundError
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from ogpu.protocol.source import Source
    from ogpu.types import Signer

__all__ = [
    "attempt",
    "extract_source_address",
    "get_active_source_count",
    "get_source_count",
    "get_source_id",
    "get_sources",
    "inactivate_source",
    "publish_source",
    "register",
    "unregister",
    "update_source",
]


def _address() -> str:
    return b.singleton("NEXUS")


def publish_source(params: SourceParams, *, signer: Signer | None = None) -> Receipt:
    """Call ``Nexus.publishSource(params)``: deploy a source owned by the signer.

    The new address is in the receipt's ``SourcePublishedEvent``
    (``extract_source_address(receipt)``).

    Raises:
        InvalidInputError subclasses: malformed ``params``.
        MissingSignerError / InvalidSignerError: no usable signer (``CLIENT_PRIVATE_KEY``).
        TxRevertError subclasses: the contract refused (e.g. EnvironmentNotSupportedError).
    """
    from ogpu.types.params import source_struct

    return transact(
        lambda: nexus_abi.publish_source(_address(), source_struct(params)), signer, Role.CLIENT
    )


def update_source(
    source_address: str, params: SourceParams, *, signer: Signer | None = None
) -> Receipt:
    """Call ``Nexus.updateSource(source, params)``; emits ``SourceUpdated``.

    Raises:
        NotSourceOwnerError: the signer does not own the source.
        SourceInactiveError: the source is inactive.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    from ogpu.types.params import source_struct

    return transact(
        lambda: nexus_abi.update_source(_address(), source_address, source_struct(params)),
        signer,
        Role.CLIENT,
    )


def inactivate_source(source_address: str, *, signer: Signer | None = None) -> Receipt:
    """Call ``Nexus.inactivateSource(source)``: one-way close to new tasks.

    Raises:
        NotSourceOwnerError: the signer does not own the source.
        SourceInactiveError: already inactive.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(
        lambda: nexus_abi.inactivate_source(_address(), source_address), signer, Role.CLIENT
    )


def _single_environment(env: object) -> Environment:
    if isinstance(env, bool) or not isinstance(env, int):
        raise InvalidEnumValueError(
            f"env must be an Environment, got {type(env).__name__}",
            param="env",
            enum_name="Environment",
        )
    if env not in (Environment.CPU, Environment.NVIDIA, Environment.AMD):
        raise InvalidEnumValueError(
            f"env must be exactly one of CPU, NVIDIA, AMD, got {env}",
            param="env",
            enum_name="Environment",
            value=int(env),
        )
    return Environment(env)


def register(source: str, provider: str, env: int, *, signer: Signer | None = None) -> Receipt:
    """Call ``Nexus.register(source, provider, env)``.

    The signer is the provider, its master or an agent of its master
    (default ``PROVIDER_PRIVATE_KEY``). ``env`` is a single ``Environment``.

    Raises:
        InsufficientLockupError: the provider's lockup is below the source's minimum
            (``required``/``available`` filled from the vault).
        SourceInactiveError, EnvironmentNotSupportedError, NotAuthorizedError.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(
        lambda: nexus_abi.register(_address(), source, provider, _single_environment(env)),
        signer,
        Role.PROVIDER,
    )


def unregister(source: str, provider: str, *, signer: Signer | None = None) -> Receipt:
    """Call ``Nexus.unregister(source, provider)`` (same signers as ``register``).

    Raises:
        NotRegisteredError, NotAuthorizedError.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(
        lambda: nexus_abi.unregister(_address(), source, provider), signer, Role.PROVIDER
    )


def attempt(
    task: str, provider: str, suggested_payment: int, *, signer: Signer | None = None
) -> Receipt:
    """Call ``Nexus.attempt(task, provider, suggestedPayment)`` (same signers as ``register``).

    Raises:
        TaskExpiredError: the task expired (``expiry`` filled from the task).
        TaskAlreadyFinalizedError, AlreadyAttemptedError, NotRegisteredError, NotAuthorizedError.
        MissingSignerError / InvalidSignerError / InvalidInputError subclasses.
    """
    return transact(
        lambda: nexus_abi.attempt(_address(), task, provider, suggested_payment),
        signer,
        Role.PROVIDER,
    )


def get_source_count() -> int:
    """Number of sources ever published."""
    return int(b.read(nexus_abi.get_source_count_call(_address())))


def get_sources(lower: int = 0, upper: int | None = None) -> list[Source]:
    """Published sources in ``[lower, upper)`` (``upper=None``: all), as ``Source`` instances.

    How ``getSources`` pages on mainnet is not recorded (docs/MAINNET.md): its bounds
    are read correctly whether inclusive or half-open, never asking past the end; the
    first read on a Web3 learns which, at no extra cost (one more request when the list
    is half-open and read to its end). Two requests (count, chunks of 100 at once).

    Raises:
        InvalidAmountError: bad bounds. RPCError: the node failed.
    """
    from ogpu.protocol.source import Source

    module = nexus_abi
    address = _address()
    getter = ListGetter(
        count=module.get_source_count_call(address),
        chunk=lambda lo, hi: module.get_sources_call(address, lo, hi),
        paging=Paging.EITHER,
        skip_zero=True,
    )
    return [Source(a) for a in read_list(getter, lower, upper)]


def get_source_id(source: str) -> int:
    """1-based id of a source in Nexus, 0 when the address is not a source."""
    return int(b.read(nexus_abi.get_source_id_call(_address(), source)))


def get_active_source_count(client: str) -> int:
    """Number of active sources a client owns."""
    return int(b.read(nexus_abi.get_active_source_count_call(_address(), client)))


def extract_source_address(receipt: Receipt) -> str:
    """Address of the source a ``publish_source`` receipt created. No RPC.

    Raises:
        SourceNotFoundError: the receipt has no ``SourcePublished`` event.
    """
    for log in receipt.logs:
        if isinstance(log, nexus_abi.SourcePublishedEvent):
            return log.source
    raise SourceNotFoundError(
        message=f"transaction {receipt.tx_hash} published no source", address=""
    )


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.chain.signer import resolve_signer as resolve_signer
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.protocol._executor import TxExecutor as TxExecutor
    from ogpu.types.params import SourceParams as SourceParams
else:
    __getattr__, __dir__ = official_names(
        __name__, globals(), "SourceParams", "TxExecutor", "load_contract", "resolve_signer"
    )
