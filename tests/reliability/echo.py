"""What the provider-runtime tests of this folder serve: a funded source the provider is
registered to, and an echo service with its config (callbacks to a given port)."""

from __future__ import annotations

from pydantic import BaseModel

from ogpu.protocol import Source
from ogpu.service import Service, ServiceConfig

from ..helpers.world import ETHER, World

__all__ = ["Echo", "Text", "echo_service", "registered_source", "service_config"]


class Text(BaseModel):
    text: str


class Echo(BaseModel):
    echoed: str


def echo_service() -> Service:
    """A service exposing ``echo`` (Text -> Echo)."""
    service = Service()

    @service.expose(timeout=10)
    def echo(data: Text) -> Echo:
        return Echo(echoed=data.text)

    return service


def service_config(callback_port: int) -> ServiceConfig:
    """The service on 127.0.0.1 (any port), calling back to ``callback_port``."""
    return ServiceConfig(
        host="127.0.0.1",
        port=0,
        callback_url=f"http://127.0.0.1:{callback_port}/callback",
        log_level="ERROR",
    )


def registered_source(net: World) -> Source:
    """The client funded (2 ETH) and its new source; the provider paired and registered."""
    net.fund(net.client, 2 * ETHER)
    source = net.source()
    net.pair()
    net.register(source)
    return source
