"""Vault lifecycle: deposit, lock (stake), unbond, wait out the unbonding period, claim,
withdraw. Vault calls always take an explicit signer.

The devnet's unbonding period is short; this script fast-forwards the devnet's
clock past it (``evm_increaseTime``, devnet only) instead of waiting.

Run against a devnet (``ogpu devnet`` in another terminal)::

    python examples/vault_lifecycle.py

Environment: ``OGPU_RPC_URL``, ``PROVIDER_PRIVATE_KEY`` (default: a devnet test key).
"""

from __future__ import annotations

import os

import requests
from eth_account import Account

from ogpu.devnet import PROVIDERS, connect_devnet
from ogpu.protocol import Provider, vault
from ogpu.types import UnbondingPeriodNotElapsedError

ACCOUNT = Account.from_key(os.environ.get("PROVIDER_PRIVATE_KEY") or PROVIDERS[2].key_hex)
OGPU = 10**18


def show(step: str) -> None:
    snap = Provider(ACCOUNT.address).snapshot()
    print(
        f"{step:<10} balance {snap.balance / OGPU:g}  lockup {snap.lockup / OGPU:g}  "
        f"unbonding {snap.unbonding / OGPU:g} OGPU"
    )


def fast_forward(rpc_url: str, seconds: int) -> None:
    """Devnet only: move the chain clock forward and mine a block."""
    for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer = requests.post(rpc_url, json=body, timeout=30).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")


def main() -> None:
    devnet = connect_devnet()
    start = Provider(ACCOUNT.address).snapshot()
    show("start")
    vault.deposit(ACCOUNT.address, 3 * OGPU, signer=ACCOUNT)
    show("deposit")
    vault.lock(2 * OGPU, signer=ACCOUNT)
    show("lock")
    vault.unbond(OGPU, signer=ACCOUNT)
    show("unbond")
    period = vault.get_unbonding_period()
    try:
        vault.claim(signer=ACCOUNT)
    except UnbondingPeriodNotElapsedError as exc:
        print(f"claim too early: {type(exc).__name__} (period {period} s)")
    fast_forward(devnet.rpc_url, period + 1)
    vault.claim(signer=ACCOUNT)
    show("claim")
    vault.withdraw(2 * OGPU, signer=ACCOUNT)
    show("withdraw")
    end = Provider(ACCOUNT.address).snapshot()
    assert end.balance == start.balance and end.lockup == start.lockup + OGPU
    print(f"RESULT lockup +{(end.lockup - start.lockup) // OGPU} OGPU")


if __name__ == "__main__":
    main()
