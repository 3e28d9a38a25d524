"""Every typed error path, on the devnet. Reverts are caught by the preflight, so
each test also checks that nothing was mined for the failing call."""

from __future__ import annotations

from typing import Any

import pytest
from ogpu_bindings import nexus as nexus_abi

from ogpu.chain import ChainConfig, ChainId, Web3Manager
from ogpu.devnet import AGENTS, CLIENTS, MASTERS, PROVIDERS
from ogpu.protocol import (
    Master,
    Provider,
    Response,
    Source,
    Task,
    TxExecutor,
    controller,
    execute_request,
    nexus,
    resolve_signer,
    terminal,
    vault,
)
from ogpu.protocol import _bindings as bindings
from ogpu.types import (
    AlreadyAttemptedError,
    Environment,
    EnvironmentNotSupportedError,
    FunctionNotOnNetworkError,
    InsufficientBalanceError,
    InsufficientLockupError,
    InvalidSignerError,
    MissingSignerError,
    NotAuthorizedError,
    NotMasterError,
    NotRegisteredError,
    NotSourceOwnerError,
    NotTaskOwnerError,
    OGPUError,
    OwnableUnauthorizedAccountError,
    PaymentTooLowError,
    PermissionError,
    ResponseAlreadyConfirmedError,
    ResponseAlreadySubmittedError,
    ResponseNotFoundError,
    Role,
    SourceInactiveError,
    SourceNotFoundError,
    StateError,
    TaskAlreadyFinalizedError,
    TaskExpiredError,
    TaskNotCancelableError,
    TaskNotFoundError,
    TxRevertError,
    UnbondingPeriodNotElapsedError,
    VaultError,
)

ETHER = 10**18


def _nothing_mined(world: Any, account: Any, call: Any, error: type[BaseException]) -> Any:
    before = world.nonce(account.address)
    with pytest.raises(error) as caught:
        call()
    assert world.nonce(account.address) == before
    return caught.value


@pytest.mark.slow
def test_wrong_owner(world: Any) -> None:
    source = world.source()
    other = world.other_client
    err = _nothing_mined(
        world, other, lambda: source.inactivate(signer=other.account), NotSourceOwnerError
    )
    assert isinstance(err, PermissionError)
    assert err.reason == "NotOwner"
    assert err.contract == "Nexus"
    assert err.function == "inactivateSource"
    _nothing_mined(
        world,
        other,
        lambda: source.set_params(world.source_params(), signer=other.account),
        NotSourceOwnerError,
    )
    world.fund(world.client)
    task = world.task(source)
    err = _nothing_mined(world, other, lambda: task.cancel(signer=other.account), NotTaskOwnerError)
    assert err.function == "cancelTask"
    world.register(source)
    nexus.attempt(task.address, world.provider.address, 1, signer=world.provider.account)
    response = world.respond(task, world.provider, "https://example.invalid/r1.json")
    _nothing_mined(world, other, lambda: response.confirm(signer=other.account), NotTaskOwnerError)


@pytest.mark.slow
def test_inactive_source(world: Any) -> None:
    source = world.source()
    source.inactivate(signer=world.client.account)
    world.fund(world.client)
    params = world.task_params(source, config="https://example.invalid/t.json")
    err = _nothing_mined(
        world,
        world.client,
        lambda: controller.publish_task(params, signer=world.client.account),
        SourceInactiveError,
    )
    assert isinstance(err, StateError)
    world.pair(world.master, world.provider)
    _nothing_mined(
        world,
        world.provider,
        lambda: nexus.register(
            source.address, world.provider.address, Environment.CPU, signer=world.provider.account
        ),
        SourceInactiveError,
    )
    _nothing_mined(
        world,
        world.client,
        lambda: source.inactivate(signer=world.client.account),
        SourceInactiveError,
    )


@pytest.mark.slow
def test_expired_task_fills_expiry_from_the_task(world: Any) -> None:
    world.fund(world.client)
    source = world.source()
    task = world.task(source, expires_in=120)
    world.register(source)
    world.devnet.advance_time(600)
    err = _nothing_mined(
        world,
        world.provider,
        lambda: nexus.attempt(
            task.address, world.provider.address, 1, signer=world.provider.account
        ),
        TaskExpiredError,
    )
    assert err.expiry == task.get_expiry_time()
    assert err.expiry < world.devnet.timestamp()
    assert err.reason == "Expired"


def test_insufficient_balance_fills_required_and_available(world: Any) -> None:
    client = world.client
    world.fund(client, 5 * 10**15)
    err = _nothing_mined(
        world,
        client,
        lambda: vault.withdraw(10**16, signer=client.account),
        InsufficientBalanceError,
    )
    assert isinstance(err, VaultError)
    assert (err.required, err.available) == (10**16, 5 * 10**15)
    err = _nothing_mined(
        world,
        client,
        lambda: vault.lock(6 * 10**15, signer=client.account),
        InsufficientBalanceError,
    )
    assert (err.required, err.available) == (6 * 10**15, 5 * 10**15)
    source = world.source()
    params = world.task_params(source, config="https://example.invalid/t.json")
    err = _nothing_mined(
        world,
        client,
        lambda: controller.publish_task(params, signer=client.account),
        InsufficientBalanceError,
    )
    assert (err.required, err.available) == (10**16, 5 * 10**15)


@pytest.mark.slow
def test_insufficient_lockup_fills_required_and_available(world: Any) -> None:
    provider = world.provider
    source = world.source(min_lockup=3 * ETHER)
    world.pair(world.master, provider, stake=2 * ETHER)
    err = _nothing_mined(
        world,
        provider,
        lambda: nexus.register(
            source.address, provider.address, Environment.CPU, signer=provider.account
        ),
        InsufficientLockupError,
    )
    assert (err.required, err.available) == (3 * ETHER, 2 * ETHER)
    err = _nothing_mined(
        world,
        provider,
        lambda: vault.unbond(5 * ETHER, signer=provider.account),
        InsufficientLockupError,
    )
    assert (err.required, err.available) == (5 * ETHER, 2 * ETHER)
    assert vault.get_min_lockup_per_source() == ETHER


def test_unbonding_not_elapsed_then_claim(world: Any) -> None:
    account = PROVIDERS[2]
    p = Provider(account.address)
    p.deposit_to_vault(3 * ETHER, signer=account.account)
    p.stake(2 * ETHER, signer=account.account)
    p.unstake(ETHER, signer=account.account)
    unlock = p.get_unbonding_timestamp()
    assert unlock > world.devnet.timestamp()
    err = _nothing_mined(
        world,
        account,
        lambda: p.claim_earnings(signer=account.account),
        UnbondingPeriodNotElapsedError,
    )
    assert err.unlock_time == unlock
    world.devnet.advance_time(vault.get_unbonding_period() + 1)
    p.claim_earnings(signer=account.account)
    assert (p.get_balance(), p.get_lockup(), p.get_unbonding()) == (2 * ETHER, ETHER, 0)


@pytest.mark.slow
def test_response_already_confirmed(world: Any) -> None:
    _, task = world.attempted_task()
    response = world.respond(task, world.provider, "https://example.invalid/r.json")
    response.confirm(signer=world.client.account)
    err = _nothing_mined(
        world,
        world.client,
        lambda: controller.confirm_response(response.address, signer=world.client.account),
        ResponseAlreadyConfirmedError,
    )
    assert err.reason == "AlreadyConfirmed"


@pytest.mark.slow
def test_cancel_after_attempt(world: Any) -> None:
    _, task = world.attempted_task()
    err = _nothing_mined(
        world,
        world.client,
        lambda: task.cancel(signer=world.client.account),
        TaskNotCancelableError,
    )
    assert isinstance(err, TaskAlreadyFinalizedError)
    assert err.reason == "NotCancelable"


@pytest.mark.slow
def test_other_state_errors(world: Any) -> None:
    world.fund(world.client)
    source = world.source(envs=Environment.CPU, min_payment=10**15)
    task = world.task(source)
    provider = world.provider
    world.pair(world.master, provider)
    _nothing_mined(
        world,
        provider,
        lambda: nexus.register(
            source.address, provider.address, Environment.AMD, signer=provider.account
        ),
        EnvironmentNotSupportedError,
    )
    _nothing_mined(
        world,
        provider,
        lambda: nexus.attempt(task.address, provider.address, 1, signer=provider.account),
        NotRegisteredError,
    )
    nexus.register(source.address, provider.address, Environment.CPU, signer=provider.account)
    nexus.attempt(task.address, provider.address, 1, signer=provider.account)
    _nothing_mined(
        world,
        provider,
        lambda: nexus.attempt(task.address, provider.address, 1, signer=provider.account),
        AlreadyAttemptedError,
    )
    world.respond(task, provider, "https://example.invalid/same.json")
    with pytest.raises(ResponseAlreadySubmittedError):
        world.respond(task, provider, "https://example.invalid/same.json")
    params = world.task_params(source, config="c", payment=1)
    _nothing_mined(
        world,
        world.client,
        lambda: controller.publish_task(params, signer=world.client.account),
        PaymentTooLowError,
    )


def test_permission_errors(world: Any) -> None:
    source = world.source()
    stranger = AGENTS[2]
    world.pair(world.master, world.provider)
    _nothing_mined(
        world,
        stranger,
        lambda: nexus.register(source.address, world.provider.address, 1, signer=stranger.account),
        NotAuthorizedError,
    )
    _nothing_mined(
        world,
        stranger,
        lambda: terminal.remove_provider(world.provider.address, signer=stranger.account),
        NotMasterError,
    )
    # a provider may not set agents
    _nothing_mined(
        world,
        world.provider,
        lambda: terminal.set_agent(AGENTS[0].address, True, signer=world.provider.account),
        NotAuthorizedError,
    )
    # admin-only functions revert with OpenZeppelin's custom error, decoded by selector
    request = nexus_abi.set_vault(bindings.singleton("NEXUS"), stranger.address)
    err = _nothing_mined(
        world,
        stranger,
        lambda: execute_request(request, stranger.account),
        OwnableUnauthorizedAccountError,
    )
    assert err.account == stranger.address


def test_execute_request_checks_its_options_like_from_request(world: Any) -> None:
    # execute_request passes its keyword options on to TxExecutor.from_request: the same
    # checks, before anything is signed; good ones reach the send (its revert decoded)
    request = nexus_abi.set_vault(bindings.singleton("NEXUS"), world.client.address)
    for bad in ({"max_retries": -1}, {"receipt_timeout": "soon"}, {"deadline": "later"}):
        _nothing_mined(
            world,
            world.client,
            lambda bad=bad: execute_request(request, world.client.account, **bad),
            OGPUError,
        )
    good = {"context": "the vault swap", "max_retries": 0, "receipt_timeout": 5.0}
    _nothing_mined(
        world,
        world.client,
        lambda: execute_request(request, world.client.account, **good),
        OwnableUnauthorizedAccountError,
    )


def test_unknown_reason_is_plain_tx_revert_error(world: Any) -> None:
    err = _nothing_mined(
        world, world.client, lambda: vault.lock(0, signer=world.client.account), TxRevertError
    )
    assert type(err) is TxRevertError
    assert err.reason == "ZeroAmount"
    assert err.tx_hash is None


def test_unknown_addresses_become_not_found(world: Any) -> None:
    nobody = "0x" + "42" * 20
    _nothing_mined(
        world,
        world.client,
        lambda: controller.cancel_task(nobody, signer=world.client.account),
        TaskNotFoundError,
    )
    _nothing_mined(
        world,
        world.client,
        lambda: controller.confirm_response(nobody, signer=world.client.account),
        ResponseNotFoundError,
    )
    _nothing_mined(
        world,
        world.client,
        lambda: nexus.inactivate_source(nobody, signer=world.client.account),
        SourceNotFoundError,
    )
    for cls, error in (
        (Source, SourceNotFoundError),
        (Task, TaskNotFoundError),
        (Response, ResponseNotFoundError),
    ):
        with pytest.raises(error) as caught:
            cls(nobody).get_status()
        assert caught.value.address == cls(nobody).address
    from ogpu.types import MasterNotFoundError, ProviderNotFoundError

    with pytest.raises(ProviderNotFoundError):
        Provider.load(nobody)
    with pytest.raises(MasterNotFoundError):
        Master.load(nobody)


def test_function_missing_on_testnet_raises_before_any_rpc(
    world: Any, proxy: Any, rpc_server: Any
) -> None:
    ChainConfig.set_chain(ChainId.OGPU_TESTNET)
    Web3Manager.update_rpc_url(ChainId.OGPU_TESTNET, proxy.url)
    try:
        proxy.reset_counts()
        with pytest.raises(FunctionNotOnNetworkError) as caught:
            vault.cancel_unbonding(signer=world.provider.account)
        assert caught.value.network == "testnet"
        assert caught.value.function == "cancelUnbonding"
        with pytest.raises(FunctionNotOnNetworkError):
            Provider(world.provider.address).cancel_unbonding(signer=world.provider.account)
        assert proxy.requests == 0
    finally:
        ChainConfig.reset_rpc(ChainId.OGPU_TESTNET)


def test_cancel_unbonding_exists_on_devnet(world: Any) -> None:
    account = PROVIDERS[2]
    vault.deposit(account.address, 2 * ETHER, signer=account.account)
    vault.lock(2 * ETHER, signer=account.account)
    vault.unbond(ETHER, signer=account.account)
    receipt = vault.cancel_unbonding(signer=account.account)
    assert [type(e).__name__ for e in receipt.logs] == ["UnbondingCanceledEvent"]
    assert (vault.get_lockup_of(account.address), vault.get_unbonding_of(account.address)) == (
        2 * ETHER,
        0,
    )


def test_signer_errors_never_show_the_key(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "0x" + "ab" * 31 + "zz"
    with pytest.raises(InvalidSignerError) as caught:
        vault.lock(1, signer=key)
    assert "ab" * 31 not in str(caught.value)
    assert "ab" * 31 not in repr(caught.value)
    with pytest.raises(MissingSignerError):
        vault.lock(1, signer=None)  # type: ignore[arg-type]
    with pytest.raises(MissingSignerError) as missing:
        nexus.publish_source(world.source_params())
    assert "CLIENT_PRIVATE_KEY" in str(missing.value)
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", "0x" + "cd" * 31)
    with pytest.raises(InvalidSignerError) as bad_env:
        nexus.publish_source(world.source_params())
    assert "cd" * 31 not in str(bad_env.value)
    assert "CLIENT_PRIVATE_KEY" in str(bad_env.value)
    with pytest.raises(InvalidSignerError):
        resolve_signer(12345)  # type: ignore[arg-type]
    with pytest.raises(InvalidSignerError):
        resolve_signer("0x" + "00" * 32, Role.CLIENT)


@pytest.mark.slow
def test_env_var_fallback_per_role(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", world.client.key_hex)
    source = Source(nexus.extract_source_address(nexus.publish_source(world.source_params())))
    assert source.get_client() == world.client.address
    monkeypatch.setenv("MASTER_PRIVATE_KEY", MASTERS[1].key_hex)
    monkeypatch.setenv("PROVIDER_PRIVATE_KEY", PROVIDERS[1].key_hex)
    terminal.announce_provider(PROVIDERS[1].address, 2 * ETHER)
    terminal.announce_master(MASTERS[1].address)
    assert terminal.get_master_of(PROVIDERS[1].address) == MASTERS[1].address
    # vault calls never fall back, even with every role key set
    with pytest.raises(MissingSignerError):
        vault.deposit(CLIENTS[0].address, 1, signer=None)  # type: ignore[arg-type]
    assert resolve_signer(None, Role.CLIENT).address == world.client.address
    monkeypatch.setenv("AGENT_PRIVATE_KEY", AGENTS[0].key_hex)
    assert resolve_signer(None, Role.AGENT).address == AGENTS[0].address


def test_tx_executor_with_a_web3_contract(world: Any) -> None:
    from ogpu.protocol import load_contract

    contract = load_contract("VaultAbi")
    account = CLIENTS[2]
    receipt = TxExecutor(
        contract, "deposit", (account.address,), signer=account.account, value=123
    ).execute()
    assert receipt.status == 1
    assert vault.get_balance_of(account.address) == 123
    with pytest.raises(InsufficientBalanceError) as caught:
        TxExecutor(contract, "withdraw", (1000,), signer=account.key_hex).execute()
    assert (caught.value.required, caught.value.available) == (1000, 123)
    assert caught.value.contract == "Vault"
    executor = TxExecutor(contract, "withdraw", (1,), signer=account.account, context="payout")
    assert "payout" in repr(executor)
    assert account.key_hex[2:] not in repr(executor)
    with pytest.raises(OGPUError):
        TxExecutor(contract, "withdraw", ("x",), signer=account.account)
    with pytest.raises(OGPUError):
        TxExecutor(contract, "noSuchFunction", (), signer=account.account)


def test_unaffordable_value_is_a_gas_error_before_broadcast(world: Any) -> None:
    from ogpu.types import GasError

    account = CLIENTS[2]
    err = _nothing_mined(
        world,
        account,
        lambda: vault.deposit(account.address, 10**30, signer=account.account),
        GasError,
    )
    assert err.tx_hash is None
