"""``Response``: live proxy to a Response contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_bindings import controller as controller_abi
from ogpu_bindings import response as response_abi

from ogpu.protocol import _bindings as b
from ogpu.protocol._common import transact
from ogpu.protocol._compat import official_names
from ogpu.protocol._instance import AddressBound
from ogpu.types.enums import ResponseStatus, Role
from ogpu.types.errors import ResponseNotFoundError
from ogpu.types.receipt import Receipt
from ogpu.types.snapshots import ResponseSnapshot
from ogpu.types.structs import ResponseParams

if TYPE_CHECKING:
    from ogpu.protocol.task import Task
    from ogpu.types import Signer


class Response(AddressBound):
    """Live, stateless proxy to an on-chain Response; every getter is one ``eth_call``.

    ``Response(address)`` does no RPC; ``Response.load(address)`` checks the
    address holds a response. Reads raise ``ResponseNotFoundError`` when it
    does not, ``RPCError`` when the node fails.
    """

    __slots__ = ()

    def _missing(self) -> ResponseNotFoundError:
        return ResponseNotFoundError(
            message=f"no Response contract at {self.address}", address=self.address
        )

    def _read(self, call: Any) -> Any:
        return b.read(call, not_found=self._missing)

    @classmethod
    def load(cls, address: str, chain: object = None) -> Response:
        """Construct and probe the contract: ``getStatus()`` plus a view only this
        contract type has, aggregated in one ``eth_call``.

        Raises:
            ResponseNotFoundError: the address does not answer like a response.
            InvalidAddressError: malformed address. RPCError: the node failed.
        """
        response = cls(address, chain)
        b.read_many(
            [
                response_abi.get_status_call(response.address),
                response_abi.get_response_params_call(response.address),
            ],
            not_found=response._missing,
        )
        return response

    def get_task(self) -> Task:
        """The parent task, as a ``Task``."""
        from ogpu.protocol.task import Task

        return Task(self.get_params().task, self.chain)

    def get_params(self) -> ResponseParams:
        """The on-chain ``ResponseParams`` (task, provider, data, payment)."""
        params: ResponseParams = self._read(response_abi.get_response_params_call(self.address))
        return params

    def get_data(self) -> str:
        """The ``data`` field (a URL to the result); no off-chain I/O."""
        return str(self.get_params().data)

    def fetch_data(self) -> dict[str, Any]:
        """Fetch and parse the JSON at ``data``. One ``eth_call`` + one HTTP GET.

        Raises:
            IPFSFetchError: network error or invalid JSON.
            IPFSGatewayError: the gateway answered non-200.
        """
        from ogpu.ipfs import fetch_ipfs_json

        return fetch_ipfs_json(self.get_data())

    def get_status(self) -> ResponseStatus:
        """``SUBMITTED`` or ``CONFIRMED``."""
        return ResponseStatus(self._read(response_abi.get_status_call(self.address)))

    def get_timestamp(self) -> int:
        """Unix time the response was submitted."""
        return int(self._read(response_abi.response_timestamp_call(self.address)))

    def is_confirmed(self) -> bool:
        """Whether this is the task's confirmed (winning) response."""
        return bool(self._read(response_abi.confirmed_final_call(self.address)))

    def confirm(self, *, signer: Signer | None = None) -> Receipt:
        """Confirm through ``Controller.confirmResponse`` (the task's client).

        Raises:
            NotTaskOwnerError: the signer is not the task's client.
            ResponseAlreadyConfirmedError: already confirmed.
            MissingSignerError / InvalidSignerError (``CLIENT_PRIVATE_KEY``).
        """
        return transact(
            lambda: controller_abi.confirm_response(b.singleton("CONTROLLER"), self.address),
            signer,
            Role.CLIENT,
        )

    def snapshot(self) -> ResponseSnapshot:
        """Every field, read from one block in ONE ``eth_call`` (no off-chain fetch).

        Raises:
            ResponseNotFoundError: not a response. RPCError: the node failed.
        """
        block, (params, status, timestamp, confirmed) = b.read_many(
            [
                response_abi.get_response_params_call(self.address),
                response_abi.get_status_call(self.address),
                response_abi.response_timestamp_call(self.address),
                response_abi.confirmed_final_call(self.address),
            ],
            not_found=self._missing,
        )
        return ResponseSnapshot(
            address=self.address,
            task=str(params.task),
            params=params,
            data=str(params.data),
            status=ResponseStatus(status),
            timestamp=int(timestamp),
            confirmed=bool(confirmed),
            block_number=block,
        )


# -- names the official 0.2.3 module also exposes, loaded on first access ---------------------
if TYPE_CHECKING:
    from ogpu.ipfs.fetch import fetch_ipfs_json as fetch_ipfs_json
    from ogpu.protocol._base import load_contract as load_contract
else:
    __getattr__, __dir__ = official_names(__name__, globals(), "fetch_ipfs_json", "load_contract")
