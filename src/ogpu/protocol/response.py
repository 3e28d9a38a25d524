"""``Response``: live proxy to a Response contract.

Its getters, ``load`` and ``confirm`` are generated (``ogpu_bindings.protocol.response``,
from ``abis/protocol.json``); what derives from them and the snapshot are here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings.protocol.response import ResponseBase

from ogpu._lazy import lazy_imports
from ogpu.protocol import _bindings as b
from ogpu.types.snapshots import ResponseSnapshot

if TYPE_CHECKING:
    from ogpu.protocol.task import Task


class Response(ResponseBase):
    """Live, stateless proxy to an on-chain Response; every getter is one ``eth_call``.

    ``Response(address)`` does no RPC; ``Response.load(address)`` checks the
    address holds a response. Reads raise ``ResponseNotFoundError`` when it
    does not, ``RPCError`` when the node fails.
    """

    __slots__ = ()

    def get_task(self) -> Task:
        """The parent task, as a ``Task``. One ``eth_call``."""
        from ogpu.protocol.task import Task

        return Task(self.get_params().task, self.chain)

    def get_data(self) -> str:
        """The ``data`` field (a URL to the result); no off-chain I/O. One ``eth_call``."""
        return str(self.get_params().data)

    def fetch_data(self) -> dict[str, Any]:
        """Fetch and parse the JSON at ``data``. One ``eth_call`` + one HTTP GET.

        Raises:
            IPFSFetchError: network error or invalid JSON.
            IPFSGatewayError: the gateway answered non-200.
        """
        from ogpu.ipfs import fetch_ipfs_json

        return fetch_ipfs_json(self.get_data())

    def snapshot(self) -> ResponseSnapshot:
        """Every field, read from one block in ONE ``eth_call`` (no off-chain fetch).

        Raises:
            ResponseNotFoundError: not a response. RPCError: the node failed.
        """
        fields = b.read_fields(self._snapshot_calls(), not_found=self._missing)
        params = fields["params"]
        return ResponseSnapshot(address=self.address, task=params.task, data=params.data, **fields)


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.ipfs.fetch import fetch_ipfs_json as fetch_ipfs_json
    from ogpu.protocol._base import load_contract as load_contract
    from ogpu.types.enums import ResponseStatus as ResponseStatus
    from ogpu.types.errors import ResponseNotFoundError as ResponseNotFoundError
    from ogpu.types.receipt import Receipt as Receipt
    from ogpu.types.structs import ResponseParams as ResponseParams
else:
    __getattr__, __dir__ = lazy_imports(__name__, globals())
