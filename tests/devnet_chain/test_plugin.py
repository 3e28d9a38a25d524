"""The pytest fixtures: one deployment per session, a clean chain per test."""

from __future__ import annotations

from ogpu.devnet import CLIENTS, DEFAULT_BALANCE_WEI, Devnet

SEEN: dict[str, int] = {}
MARK = 12345


def test_devnet_is_the_session_chain(devnet: Devnet, devnet_session: Devnet) -> None:
    assert devnet is devnet_session
    assert devnet.block_number() == devnet.deployment.block_number


def test_first_test_changes_the_chain(devnet: Devnet) -> None:
    SEEN["session"] = id(devnet)
    devnet.w3.eth.send_transaction(
        {"from": CLIENTS[0].address, "to": CLIENTS[2].address, "value": MARK}
    )
    devnet.advance_time(5000)
    assert devnet.block_number() == devnet.deployment.block_number + 2


def test_next_test_sees_the_fresh_deployment(devnet: Devnet) -> None:
    # Runs after the previous test in file order; it must not see its changes.
    if "session" in SEEN:
        assert SEEN["session"] == id(devnet)  # same chain object, not redeployed
    assert devnet.block_number() == devnet.deployment.block_number
    assert devnet.w3.eth.get_balance(CLIENTS[2].address) == DEFAULT_BALANCE_WEI


def test_installing_ogpu_registers_no_pytest_plugin() -> None:
    # Opt-in only: other projects' test runs must not load our fixtures.
    from importlib.metadata import distribution

    groups = {ep.group for ep in distribution("ogpu").entry_points}
    assert "pytest11" not in groups
