"""Off-chain metadata and the user-facing builders of source and task parameters.

Pure data: nothing here touches the network unless a method says so. As in the
official SDK, the on-chain structs, their status enums and the snapshot classes
are importable from here too (``SourceParams``/``TaskParams`` load pydantic on
first access).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ogpu_bindings.runtime import check_address

from ogpu._lazy import lazy_attributes
from ogpu.types.enums import (
    DeliveryMethod,
    Environment,
    ResponseStatus,
    SourceStatus,
    TaskStatus,
    member,
)
from ogpu.types.errors import InvalidInputError
from ogpu.types.snapshots import (
    MasterSnapshot,
    ProviderSnapshot,
    ResponseSnapshot,
    SourceSnapshot,
    TaskSnapshot,
)
from ogpu.types.structs import PARAMS, ResponseParams

if TYPE_CHECKING:
    from pydantic import BaseModel
    from typing_extensions import TypeIs

    from ogpu.types.params import SourceParams, TaskParams
else:
    __getattr__, __dir__ = lazy_attributes(__name__, PARAMS, globals())


__all__ = [
    "DeliveryMethod",
    "ImageEnvironments",
    "MasterSnapshot",
    "ProviderSnapshot",
    "ResponseParams",
    "ResponseSnapshot",
    "ResponseStatus",
    "SourceInfo",
    "SourceMetadata",
    "SourceParams",
    "SourceSnapshot",
    "SourceStatus",
    "TaskInfo",
    "TaskInput",
    "TaskParams",
    "TaskSnapshot",
    "TaskStatus",
    "is_pydantic_model",
]

_METADATA_KEYS = ("cpu", "nvidia", "amd", "name", "description", "logoUrl")


def is_pydantic_model(value: object) -> TypeIs[BaseModel]:
    """Whether ``value`` is a pydantic ``BaseModel`` instance. No I/O, and no pydantic import:
    an instance can only exist once ``pydantic.main`` (where ``BaseModel`` lives) is loaded."""
    main = sys.modules.get("pydantic.main")
    return main is not None and isinstance(value, main.BaseModel)


def _non_negative(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise InvalidInputError(f"{name} must be >= 0, got {value}")
    return value


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a str, got {type(value).__name__}")
    return value


@dataclass
class ImageEnvironments:
    """Docker compose URL per hardware environment; empty means unsupported.

    Mutable, as in the official SDK; the client workflows validate it again
    before publishing."""

    cpu: str = ""
    nvidia: str = ""
    amd: str = ""

    def __post_init__(self) -> None:
        for name in ("cpu", "nvidia", "amd"):
            _text(name, getattr(self, name))

    @property
    def mask(self) -> Environment:
        """The on-chain ``Environment`` bit mask of the non-empty URLs. No I/O."""
        value = Environment(0)
        if self.cpu:
            value |= Environment.CPU
        if self.nvidia:
            value |= Environment.NVIDIA
        if self.amd:
            value |= Environment.AMD
        return value


@dataclass
class SourceMetadata:
    """The source metadata JSON stored off-chain (``imageMetadataUrl`` points at it)."""

    cpu: str
    nvidia: str
    amd: str
    name: str
    description: str
    logoUrl: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (extra keys included). No I/O."""
        out: dict[str, Any] = dict(self.extra)
        out.update({key: getattr(self, key) for key in _METADATA_KEYS})
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceMetadata:
        """Parse the JSON object; missing keys become ``""``, unknown keys go to ``extra``.

        Raises:
            InvalidInputError: a known key holds a non-string.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"source metadata must be an object, got {type(data).__name__}")
        values = {key: _text(key, data.get(key, "")) for key in _METADATA_KEYS}
        extra = {k: v for k, v in data.items() if k not in _METADATA_KEYS}
        return cls(extra=extra, **values)


class TaskInput:
    """A task's input: the handler name, its data, and extra top-level fields."""

    __slots__ = ("_extra", "data", "function_name")

    def __init__(
        self, function_name: str, data: BaseModel | Mapping[str, Any], **extra: Any
    ) -> None:
        if not isinstance(function_name, str) or not function_name:
            raise InvalidInputError("function_name must be a non-empty str")
        if not isinstance(data, Mapping) and not is_pydantic_model(data):
            raise InvalidInputError(
                f"data must be a dict or a pydantic model, got {type(data).__name__}"
            )
        clash = {"function_name", "data"} & set(extra)
        if clash:
            raise InvalidInputError(f"extra fields may not be named {sorted(clash)}")
        self.function_name = function_name
        self.data = data
        self._extra = dict(extra)

    @property
    def extra(self) -> dict[str, Any]:
        """The extra top-level fields (a copy)."""
        return dict(self._extra)

    def to_dict(self) -> dict[str, Any]:
        """The task config JSON object. No I/O."""
        data = (
            self.data.model_dump(mode="json") if is_pydantic_model(self.data) else dict(self.data)
        )
        return {"function_name": self.function_name, "data": data, **self._extra}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskInput):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self._extra.items())
        return f"TaskInput(function_name={self.function_name!r}, data={self.data!r}{extra})"


@dataclass
class SourceInfo:
    """Everything a client states to publish (or update) a source."""

    name: str
    description: str
    logoUrl: str
    imageEnvs: ImageEnvironments
    minPayment: int
    minAvailableLockup: int
    maxExpiryDuration: int
    deliveryMethod: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION
    privacyEnabled: bool = False
    optionalParamsUrl: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "description", "logoUrl", "optionalParamsUrl"):
            _text(name, getattr(self, name))
        if not isinstance(self.imageEnvs, ImageEnvironments):
            raise InvalidInputError("imageEnvs must be an ImageEnvironments")
        if not self.imageEnvs.mask:
            raise InvalidInputError("imageEnvs must name at least one environment URL")
        for name in ("minPayment", "minAvailableLockup", "maxExpiryDuration"):
            _non_negative(name, getattr(self, name))
        self.deliveryMethod = member(DeliveryMethod, self.deliveryMethod)
        if not isinstance(self.privacyEnabled, bool):
            raise InvalidInputError("privacyEnabled must be a bool")

    def to_metadata(self) -> SourceMetadata:
        """The off-chain metadata this source publishes. No I/O."""
        return SourceMetadata(
            cpu=self.imageEnvs.cpu,
            nvidia=self.imageEnvs.nvidia,
            amd=self.imageEnvs.amd,
            name=self.name,
            description=self.description,
            logoUrl=self.logoUrl,
        )

    def to_source_params(
        self, client_address: str, image_metadata_url: str | None = None
    ) -> SourceParams:
        """Build the on-chain ``SourceParams``.

        Without ``image_metadata_url`` the metadata JSON is uploaded first with
        ``ogpu.ipfs.publish_to_ipfs`` (one HTTP request); with it, no I/O.

        Raises:
            InvalidInputError: malformed ``client_address``.
            IPFSError subclasses: the upload failed.
        """
        from ogpu.types.params import SourceParams

        client = check_address(client_address, "client_address")
        if image_metadata_url is None:
            from ogpu.ipfs import publish_to_ipfs

            image_metadata_url = publish_to_ipfs(
                self.to_metadata().to_dict(),
                filename="imageMetadata.json",
                content_type="application/json",
            )
        return SourceParams(
            client=client,
            imageMetadataUrl=image_metadata_url,
            imageEnvironments=self.imageEnvs.mask,
            minPayment=self.minPayment,
            minAvailableLockup=self.minAvailableLockup,
            maxExpiryDuration=self.maxExpiryDuration,
            privacyEnabled=self.privacyEnabled,
            optionalParamsUrl=self.optionalParamsUrl,
            deliveryMethod=self.deliveryMethod,
            lastUpdateTime=int(time.time()),
        )


@dataclass
class TaskInfo:
    """Everything a client states to publish a task."""

    source: str
    config: TaskInput
    expiryTime: int
    payment: int

    def __post_init__(self) -> None:
        self.source = check_address(self.source, "source")
        if not isinstance(self.config, TaskInput):
            raise InvalidInputError("config must be a TaskInput")
        _non_negative("expiryTime", self.expiryTime)
        _non_negative("payment", self.payment)

    def to_task_params(self, config_url: str | None = None) -> TaskParams:
        """Build the on-chain ``TaskParams``.

        Without ``config_url`` the config JSON is uploaded first with
        ``ogpu.ipfs.publish_to_ipfs`` (one HTTP request); with it, no I/O.

        Raises:
            IPFSError subclasses: the upload failed.
        """
        from ogpu.types.params import TaskParams

        if config_url is None:
            from ogpu.ipfs import publish_to_ipfs

            config_url = publish_to_ipfs(
                self.config.to_dict(), filename="taskConfig.json", content_type="application/json"
            )
        return TaskParams(
            source=self.source,
            config=config_url,
            expiryTime=self.expiryTime,
            payment=self.payment,
        )
