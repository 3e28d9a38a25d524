"""``prepare_provider``: pair a provider with its master and register it to sources."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eth_account.signers.local import LocalAccount
from ogpu_bindings.runtime import check_address

from ogpu.chain.signer import resolve_signer
from ogpu.protocol import ZERO_ADDRESS, Source, nexus, terminal
from ogpu.types import Environment, InvalidInputError, Role, Signer

__all__ = ["DEFAULT_STAKE", "prepare_provider"]

DEFAULT_STAKE = 10**18
"""Lockup the master funds when pairing (1 OGPU: the devnet's ``MIN_LOCKUP_PER_SOURCE``)."""


def prepare_provider(
    provider: Signer | None,
    sources: Sequence[str],
    *,
    master: Signer | None = None,
    scheduler: Signer | None = None,
    stake: int = DEFAULT_STAKE,
    env: Environment = Environment.CPU,
    on_step: Callable[[str], None] | None = None,
) -> list[str]:
    """Make ``provider`` able to serve ``sources``; return what was done (one line per step).

    When the provider has no master yet, the master (``master`` key, else
    ``MASTER_PRIVATE_KEY``) announces it with ``stake`` wei of lockup (unless it
    already did) and the provider announces the master. Then the provider is
    registered with ``env`` to every source it is not registered to, signed by
    ``scheduler`` (its master or an agent of it) if given, else by the provider.

    Cost: one ``eth_call`` for the pairing, one per source, plus one
    transaction per step taken.

    Raises:
        InvalidInputError: bad address, stake or environment (nothing sent).
        MissingSignerError / InvalidSignerError: a needed key is missing or malformed.
        TxRevertError subclasses (e.g. InsufficientLockupError, SourceInactiveError),
            RPCError: as the underlying protocol calls.
    """
    addresses = [check_address(s, "source") for s in sources]
    if isinstance(stake, bool) or not isinstance(stake, int) or stake < 0:
        raise InvalidInputError(f"stake must be an int >= 0 (wei), got {stake!r}", param="stake")
    account = resolve_signer(provider, Role.PROVIDER)
    registrar: LocalAccount = (
        account if scheduler is None else resolve_signer(scheduler, Role.AGENT)
    )
    done: list[str] = []

    def step(text: str) -> None:
        done.append(text)
        if on_step is not None:
            on_step(text)

    if terminal.get_master_of(account.address) == ZERO_ADDRESS:
        boss = resolve_signer(master, Role.MASTER)
        if not terminal.is_provider(account.address):
            receipt = terminal.announce_provider(account.address, stake, signer=boss)
            step(
                f"master {boss.address} announced provider {account.address} with "
                f"{stake} wei lockup (tx {receipt.tx_hash})"
            )
        receipt = terminal.announce_master(boss.address, signer=account)
        step(f"provider announced master {boss.address} (tx {receipt.tx_hash})")
    for source in addresses:
        if Source(source).get_registrant_id(account.address) != 0:
            continue
        receipt = nexus.register(source, account.address, env, signer=registrar)
        step(f"provider registered to source {source} (tx {receipt.tx_hash})")
    return done
