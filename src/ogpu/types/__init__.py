"""Shared SDK types: enums, errors, on-chain structs, metadata, receipts, snapshots.

Pure data: importing or using these does no network I/O (except the
``to_*_params`` helpers that upload metadata when not given a URL).
Enums, structs and the error hierarchy are generated (``ogpu_bindings``) and
re-exported here. ``Signer`` is built on first access (it imports eth-account),
``SourceParams``/``TaskParams`` (pydantic models) load on first access too.
"""

import typing as _typing

from ogpu._lazy import lazy_attributes as _lazy_attributes
from ogpu.types.enums import *  # noqa: F403 - its __all__: the enums and their helpers
from ogpu.types.errors import *  # noqa: F403 - every error class
from ogpu.types.metadata import (
    ImageEnvironments as ImageEnvironments,
)
from ogpu.types.metadata import (
    SourceInfo as SourceInfo,
)
from ogpu.types.metadata import (
    SourceMetadata as SourceMetadata,
)
from ogpu.types.metadata import (
    TaskInfo as TaskInfo,
)
from ogpu.types.metadata import (
    TaskInput as TaskInput,
)
from ogpu.types.receipt import RawLog as RawLog
from ogpu.types.receipt import Receipt as Receipt
from ogpu.types.receipt import TxHash as TxHash
from ogpu.types.snapshots import *  # noqa: F403 - its __all__: the five snapshot classes
from ogpu.types.structs import PARAMS as _PARAMS
from ogpu.types.structs import ResponseParams as ResponseParams

if _typing.TYPE_CHECKING:
    from typing import Union as _Union

    from eth_account.signers.local import LocalAccount as _LocalAccount

    from ogpu.types.params import SourceParams as SourceParams
    from ogpu.types.params import TaskParams as TaskParams

    #: What ``signer=`` accepts: a hex private key or a ``LocalAccount``.
    Signer = _Union[str, _LocalAccount]  # noqa: UP007 - runtime alias, py3.10
else:
    # Runtime only (type checkers see the alias above and keep flagging unknown names).
    def __getattr__(name: str) -> _typing.Any:
        # ``Signer`` is the runtime alias ``Union[str, LocalAccount]``; the first access
        # imports eth-account and caches the alias as a plain module attribute.
        if name == "Signer":
            from typing import Union

            from eth_account.signers.local import LocalAccount

            value = Union[str, LocalAccount]  # noqa: UP007 - runtime alias, py3.10
            globals()[name] = value
            return value
        return _params(name)  # pydantic models: pydantic loads with them

    _params, _ = _lazy_attributes(__name__, _PARAMS, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), "Signer", *_PARAMS})
