"""``SourceParams`` and ``TaskParams``: the on-chain parameter tuples as pydantic models.

As in the official SDK they are pydantic ``BaseModel``s (``model_dump``,
``model_copy(update=...)``, ``model_validate`` work) with ``to_tuple()`` giving the
raw tuple. The generated bindings encode their own frozen dataclasses
(``ogpu_bindings.structs``); ``to_struct``/``from_struct`` convert, and every
SDK write accepts either form. This module imports pydantic, so the package
loads it on first access to these names, not with ``import ogpu.types``.
"""

from __future__ import annotations

import time
from enum import EnumMeta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ogpu_bindings import structs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ogpu.types.enums import DeliveryMethod, Environment
from ogpu.types.errors import InvalidParamsError, shown

if TYPE_CHECKING:
    from ogpu_bindings.runtime import AbiStruct
    from typing_extensions import Self

__all__ = ["SourceParams", "TaskParams", "source_struct", "task_struct"]


def _now() -> int:
    return int(time.time())


class _Params(BaseModel):
    """Shared behaviour: construction errors are typed (``InvalidParamsError``); the fields
    may also be given positionally, in Solidity order (as the bindings' dataclasses take them)."""

    # The validation schema is built on the first validation, not at import: values read
    # from the chain (``from_decoded``) need none, so a snapshot costs no schema build.
    model_config = ConfigDict(defer_build=True)

    def __init__(self, *values: Any, **data: Any) -> None:
        names = list(type(self).model_fields)
        if len(values) > len(names):
            raise InvalidParamsError(
                f"{type(self).__name__} takes at most {len(names)} values, got {len(values)}",
                param=type(self).__name__,
            )
        for name, value in zip(names, values, strict=False):  # fewer values: the rest by name
            if name in data:
                raise InvalidParamsError(
                    f"{type(self).__name__}: {name} given twice", param=type(self).__name__
                )
            data[name] = value
        _check_enum_kinds(type(self), data)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidParamsError(
                f"invalid {type(self).__name__}: {problems}", param=type(self).__name__
            ) from None

    def to_struct(self) -> AbiStruct:
        """The generated bindings' dataclass with the same values. No I/O."""
        raise NotImplementedError

    def to_abi(self) -> tuple[Any, ...]:
        """Validated tuple for eth-abi. No I/O. Raises InvalidInputError subclasses."""
        return self.to_struct().to_abi()

    @classmethod
    def from_struct(cls, value: Any) -> Self:
        """Build from the generated dataclass (or any object with the same attributes). No I/O."""
        if isinstance(value, cls):
            return value
        return cls(**{name: getattr(value, name) for name in cls.model_fields})


def _check_enum_kinds(model: type[_Params], data: dict[str, Any]) -> None:
    """Refuse an enum field's value that is no number nor string before pydantic sees it:
    pydantic's enum check formats the value's repr, which may fail or recurse."""
    for name, field in model.model_fields.items():
        value = data.get(name)
        enum = field.annotation
        if isinstance(enum, EnumMeta) and not isinstance(value, (int, float, str, type(None))):
            raise InvalidParamsError(
                f"invalid {model.__name__}: {name}: expected a {enum.__name__}, got {shown(value)}",
                param=model.__name__,
            )


class SourceParams(_Params):
    """``Nexus.publishSource``'s parameter tuple; what ``Source.get_params()`` returns.

    ``imageEnvironments`` is an ``Environment`` bit mask and ``deliveryMethod`` a
    ``DeliveryMethod`` (both ints); ``lastUpdateTime`` defaults to now.
    Construction raises ``InvalidParamsError`` (a ``ValueError``) for a wrong
    type; ``SourceParams.model_validate(data)`` raises pydantic's
    ``ValidationError`` instead. Ranges and addresses are checked by ``to_abi``
    (and before every send).
    """

    client: str
    imageMetadataUrl: str
    imageEnvironments: Environment
    minPayment: int
    minAvailableLockup: int
    maxExpiryDuration: int
    privacyEnabled: bool
    optionalParamsUrl: str
    deliveryMethod: DeliveryMethod
    lastUpdateTime: int = Field(default_factory=_now)

    def to_tuple(self) -> tuple[str, str, int, int, int, int, bool, str, int, int]:
        """The raw tuple web3 encodes, field order as in Solidity. No I/O, no validation."""
        return (
            self.client,
            self.imageMetadataUrl,
            int(self.imageEnvironments),
            self.minPayment,
            self.minAvailableLockup,
            self.maxExpiryDuration,
            self.privacyEnabled,
            self.optionalParamsUrl,
            int(self.deliveryMethod),
            self.lastUpdateTime,
        )

    def to_struct(self) -> structs.SourceParams:
        """The generated bindings' dataclass with the same values. No I/O."""
        values = dict(self)
        mask = values["imageEnvironments"]
        if isinstance(mask, int) and not isinstance(mask, bool):
            # the plain int: the bindings reject a flag outside the mask, not an IntFlag instance
            values["imageEnvironments"] = int(mask)
        return structs.SourceParams(**values)


class TaskParams(_Params):
    """``Controller.publishTask``'s parameter tuple; what ``Task.get_params()`` returns.

    ``config`` is the URL of the task's input JSON. Construction errors as in
    ``SourceParams``.
    """

    source: str
    config: str
    expiryTime: int
    payment: int

    def to_tuple(self) -> tuple[str, str, int, int]:
        """The raw tuple web3 encodes. No I/O, no validation."""
        return (self.source, self.config, self.expiryTime, self.payment)

    def to_struct(self) -> structs.TaskParams:
        """The generated bindings' dataclass with the same values. No I/O."""
        return structs.TaskParams(**dict(self))


_P = TypeVar("_P", SourceParams, TaskParams)


def from_decoded(model: type[_P], value: object) -> _P:
    """``model`` with the fields of a struct the bindings decoded (already typed by the
    decoder: checksummed addresses, enum members, ints), without validation, so the
    model's schema is not built. No I/O. Raises AttributeError for a missing field."""
    return model.model_construct(**{name: getattr(value, name) for name in model.model_fields})


_S = TypeVar("_S", structs.SourceParams, structs.TaskParams)


def _struct(value: object, model: type[SourceParams | TaskParams], struct: type[_S]) -> _S:
    if isinstance(value, struct):
        return value
    if isinstance(value, model):
        return cast(_S, value.to_struct())
    raise InvalidParamsError(
        f"params must be a {model.__name__}, got {type(value).__name__}", param="params"
    )


def source_struct(value: object) -> structs.SourceParams:
    """What the bindings encode, from either form of ``SourceParams``. No I/O.

    Raises:
        InvalidParamsError: ``value`` is neither.
    """
    return _struct(value, SourceParams, structs.SourceParams)


def task_struct(value: object) -> structs.TaskParams:
    """What the bindings encode, from either form of ``TaskParams``. No I/O.

    Raises:
        InvalidParamsError: ``value`` is neither.
    """
    return _struct(value, TaskParams, structs.TaskParams)
