"""ogpu.client source workflows: publish, update, inactivate; signers; checks before sending."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    inactivate_source,
    publish_source,
    update_source,
)
from ogpu.protocol import Source, nexus
from ogpu.types import (
    Environment,
    InvalidAmountError,
    InvalidEnumValueError,
    InvalidInputError,
    InvalidParamsError,
    InvalidSignerError,
    MissingSignerError,
    NotSourceOwnerError,
    OGPUError,
    SourceInactiveError,
    SourceNotFoundError,
    SourceStatus,
)

if TYPE_CHECKING:
    from conftest import Net

ETHER = 10**18


def _event(receipt: Any, name: str) -> Any:
    found = [log for log in receipt.logs if type(log).__name__ == name]
    assert len(found) == 1, [type(log).__name__ for log in receipt.logs]
    return found[0]


def test_publish_source_returns_live_source(net: Net) -> None:
    info = net.source_info(min_payment=10**16, min_lockup=ETHER // 2, max_expiry=86400)

    source = publish_source(info, private_key=net.client.key_hex)

    assert isinstance(source, Source)
    assert net.rpc.count("eth_sendRawTransaction") == 1
    assert net.store.posts() == 1
    assert source.get_status() == SourceStatus.ACTIVE
    assert source.get_client() == net.client.address
    params = source.get_params()
    assert params.minPayment == 10**16
    assert params.minAvailableLockup == ETHER // 2
    assert params.maxExpiryDuration == 86400
    assert params.imageEnvironments == Environment.CPU | Environment.NVIDIA
    assert params.deliveryMethod == DeliveryMethod.MANUAL_CONFIRMATION
    assert source.get_metadata() == {
        "cpu": "https://example.com/docker-compose.yml",
        "nvidia": "https://example.com/docker-compose.gpu.yml",
        "amd": "",
        "name": "sentiment-analyzer",
        "description": "DistilBERT-based sentiment classifier",
        "logoUrl": "https://example.com/logo.png",
    }
    assert nexus.get_sources()[-1] == source


def test_publish_source_first_response_delivery(net: Net) -> None:
    source = publish_source(
        net.source_info(delivery=DeliveryMethod.FIRST_RESPONSE), signer=net.client.account
    )
    assert source.get_params().deliveryMethod == DeliveryMethod.FIRST_RESPONSE


@pytest.mark.parametrize("form", ["private_key", "positional", "signer_hex", "account", "env"])
def test_publish_source_signer_forms(net: Net, form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = net.other_client
    info = net.source_info()
    if form == "private_key":
        source = publish_source(info, private_key=owner.key_hex)
    elif form == "positional":
        source = publish_source(info, owner.key_hex)
    elif form == "signer_hex":
        source = publish_source(info, signer=owner.key_hex)
    elif form == "account":
        source = publish_source(info, signer=owner.account)
    else:
        monkeypatch.setenv("CLIENT_PRIVATE_KEY", owner.key_hex)
        source = publish_source(info)
    assert source.get_client() == owner.address


def _mutate(info: SourceInfo, **changes: Any) -> SourceInfo:
    for name, value in changes.items():
        setattr(info, name, value)
    return info


BAD_SOURCE_INFO = [
    ("no-env", {"imageEnvs": ImageEnvironments()}, InvalidParamsError, "imageEnvs"),
    ("empty-name", {"name": "  "}, InvalidParamsError, "name"),
    ("bad-url", {"imageEnvs": ImageEnvironments(cpu="ftp://x/c.yml")}, InvalidParamsError, "cpu"),
    ("negative-payment", {"minPayment": -1}, InvalidAmountError, "minPayment"),
    ("zero-expiry", {"maxExpiryDuration": 0}, InvalidAmountError, "maxExpiryDuration"),
    ("float-lockup", {"minAvailableLockup": 1.5}, InvalidAmountError, "minAvailableLockup"),
    ("delivery", {"deliveryMethod": 7}, InvalidEnumValueError, "deliveryMethod"),
]


@pytest.mark.parametrize(
    ("changes", "error", "mentions"),
    [case[1:] for case in BAD_SOURCE_INFO],
    ids=[case[0] for case in BAD_SOURCE_INFO],
)
def test_publish_source_rejects_bad_info_before_anything(
    net: Net, changes: dict[str, Any], error: type[Exception], mentions: str
) -> None:
    info = _mutate(net.source_info(), **changes)
    with net.nothing_sent(), pytest.raises(error, match=mentions) as caught:
        publish_source(info, signer=net.client.account)
    assert isinstance(caught.value, InvalidInputError)


def test_source_info_without_environment_is_refused_at_construction(net: Net) -> None:
    fields = dataclasses.asdict(net.source_info())
    fields["imageEnvs"] = ImageEnvironments()
    with net.nothing_sent(), pytest.raises(InvalidInputError):
        publish_source(SourceInfo(**fields), signer=net.client.account)


def test_publish_source_without_signer(net: Net) -> None:
    with net.nothing_sent(), pytest.raises(MissingSignerError, match="CLIENT_PRIVATE_KEY"):
        publish_source(net.source_info())


def test_publish_source_with_two_signers(net: Net) -> None:
    with net.nothing_sent(), pytest.raises(InvalidParamsError, match="not both"):
        publish_source(net.source_info(), net.client.key_hex, signer=net.client.account)


@pytest.mark.parametrize("key", ["0x" + "zz" * 32, "0x" + "00" * 32, "0x" + "ab" * 31])
def test_bad_private_key_never_appears_in_the_error(net: Net, key: str) -> None:
    with net.nothing_sent(), pytest.raises(InvalidSignerError) as caught:
        publish_source(net.source_info(), private_key=key)
    assert caught.value.__suppress_context__
    error: BaseException | None = caught.value
    while error is not None:
        text = f"{error} {error!r} {error.args!r} {vars(error)!r}"
        assert key[2:] not in text
        error = error.__cause__ or error.__context__


def test_private_key_absent_from_refusals(net: Net) -> None:
    source = publish_source(net.source_info(), private_key=net.client.key_hex)
    with pytest.raises(NotSourceOwnerError) as caught:
        inactivate_source(source.address, private_key=net.other_client.key_hex)
    text = f"{caught.value} {caught.value!r} {vars(caught.value)}"
    assert net.other_client.key_hex[2:] not in text


def test_update_source(net: Net) -> None:
    source = publish_source(net.source_info(), signer=net.client.account)
    changed = net.source_info(min_payment=5 * 10**16, max_expiry=7200)
    changed.description = "updated description"
    changed.imageEnvs = ImageEnvironments(amd="https://example.com/compose.amd.yml")

    receipt = update_source(source.address, changed, private_key=net.client.key_hex)

    event = _event(receipt, "SourceUpdatedEvent")
    assert event.source == source.address
    params = source.get_params()
    assert params.minPayment == 5 * 10**16
    assert params.maxExpiryDuration == 7200
    assert params.imageEnvironments == Environment.AMD
    assert source.get_client() == net.client.address
    assert source.get_metadata()["description"] == "updated description"
    assert source.get_metadata()["amd"] == "https://example.com/compose.amd.yml"


def test_update_source_by_non_owner_pins_nothing(net: Net) -> None:
    source = publish_source(net.source_info(), signer=net.client.account)
    with (
        net.nothing_sent(net.other_client),
        pytest.raises(NotSourceOwnerError, match=net.client.address),
    ):
        update_source(source.address, net.source_info(), signer=net.other_client.account)


def test_update_source_of_a_non_source(net: Net) -> None:
    with net.nothing_sent(), pytest.raises(SourceNotFoundError, match="not a source"):
        update_source(net.provider.address, net.source_info(), signer=net.client.account)


def test_inactivate_source(net: Net) -> None:
    source = publish_source(net.source_info(), signer=net.client.account)

    receipt = inactivate_source(source.address, signer=net.client.account)

    assert _event(receipt, "SourceStatusChangedEvent").status == SourceStatus.INACTIVE
    assert source.get_status() == SourceStatus.INACTIVE
    assert nexus.get_active_source_count(net.client.address) == 0
    with net.nothing_sent(), pytest.raises(SourceInactiveError, match="inactive"):
        inactivate_source(source.address, signer=net.client.account)


def test_inactivate_source_refusals_send_nothing(net: Net) -> None:
    source = publish_source(net.source_info(), signer=net.client.account)
    with net.nothing_sent(net.other_client), pytest.raises(NotSourceOwnerError):
        inactivate_source(source.address, signer=net.other_client.account)
    with net.nothing_sent(), pytest.raises(SourceNotFoundError):
        inactivate_source(net.master.address, signer=net.client.account)
    with net.nothing_sent(), pytest.raises(InvalidInputError):
        inactivate_source("0x1234", signer=net.client.account)
    assert source.get_status() == SourceStatus.ACTIVE


def test_every_refusal_is_an_ogpu_error(net: Net) -> None:
    with pytest.raises(OGPUError):
        publish_source("not a SourceInfo", signer=net.client.account)  # type: ignore[arg-type]
