"""Protocol state built through the public API, shared by the scenario builders of
tests/protocol (``World``), tests/workflows and tests/reliability (``Net``)."""

from __future__ import annotations

from ogpu_bindings import nexus as nexus_abi

from ogpu.chain import ChainConfig
from ogpu.devnet import DevnetAccount
from ogpu.protocol import Response, execute_request
from ogpu.types import DeliveryMethod, Environment, ResponseParams, SourceParams

__all__ = ["respond", "source_params"]


def source_params(
    client: str,
    *,
    delivery: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION,
    min_payment: int = 10**15,
    min_lockup: int = 0,
    max_expiry: int = 3600,
    envs: Environment = Environment.CPU | Environment.NVIDIA,
    metadata_url: str = "https://example.invalid/meta.json",
) -> SourceParams:
    """Nexus ``publishSource`` parameters of a plain source owned by ``client``. No RPC."""
    return SourceParams(
        client=client,
        imageMetadataUrl=metadata_url,
        imageEnvironments=envs,
        minPayment=min_payment,
        minAvailableLockup=min_lockup,
        maxExpiryDuration=max_expiry,
        privacyEnabled=False,
        optionalParamsUrl="",
        deliveryMethod=delivery,
        lastUpdateTime=0,
    )


def respond(task: str, provider: DevnetAccount, data: str) -> Response:
    """``provider`` submits ``data`` for ``task`` through ``ogpu.protocol`` (a generated
    request and the executor) on the selected chain; the new Response (its RPCs: one write)."""
    params = ResponseParams(task=task, provider=provider.address, data=data, payment=0)
    request = nexus_abi.submit_response(ChainConfig.get_contract_address("NEXUS"), params)
    receipt = execute_request(request, provider.account)
    for log in receipt.logs:
        if type(log).__name__ == "ResponseSubmittedEvent":
            return Response(log.response)
    raise AssertionError("no ResponseSubmitted event")
