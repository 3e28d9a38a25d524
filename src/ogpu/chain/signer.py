"""Turn a ``signer=`` argument into a ``LocalAccount``.

Error messages name the argument or the environment variable, never the key.
eth-account is imported by the first ``resolve_signer`` call, not with this module.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ogpu.types.enums import Role
from ogpu.types.errors import InvalidSignerError, MissingSignerError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def _from_key(key: str | bytes, origin: str) -> LocalAccount:
    from eth_account import Account

    if isinstance(key, str):
        text = key.strip()
        if not _HEX_KEY.match(text):
            raise InvalidSignerError(message=f"{origin} is not a 32-byte hex private key")
        raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
    else:
        raw = bytes(key)
        if len(raw) != 32:
            raise InvalidSignerError(message=f"{origin} is not a 32-byte private key")
    try:
        account: LocalAccount = Account.from_key(raw)
    except (ValueError, TypeError):
        raise InvalidSignerError(message=f"{origin} is not a valid secp256k1 private key") from None
    return account


def _is_account_like(value: object) -> bool:
    return callable(getattr(value, "sign_transaction", None)) and isinstance(
        getattr(value, "address", None), str
    )


def resolve_signer(
    signer: str | bytes | LocalAccount | None, role: Role | None = None
) -> LocalAccount:
    """Normalize a signer argument to a ``LocalAccount``. No RPC.

    - a ``LocalAccount`` (or any object with ``address`` and
      ``sign_transaction``) is returned unchanged;
    - a hex private key (with or without ``0x``) or 32 raw bytes is parsed;
    - ``None`` reads the role's environment variable (``CLIENT_PRIVATE_KEY``...);
      with ``role=None`` (vault operations) there is no fallback.

    Raises:
        MissingSignerError: ``signer`` is None and no key is available for ``role``.
        InvalidSignerError: the key (argument or environment variable) is malformed,
            or ``signer`` has an unsupported type.
    """
    if signer is not None and not isinstance(signer, (str, bytes)) and _is_account_like(signer):
        return signer  # a LocalAccount, or anything that signs like one
    if isinstance(signer, (str, bytes, bytearray)):
        return _from_key(bytes(signer) if isinstance(signer, bytearray) else signer, "signer")
    if signer is not None:
        kind = type(signer).__name__
        raise InvalidSignerError(
            message=f"signer must be a hex private key or a LocalAccount, not {kind}"
        )
    if role is None:
        raise MissingSignerError(
            message="this operation needs an explicit signer= (no env-var fallback)"
        )
    if not isinstance(role, Role):
        raise InvalidSignerError(message=f"role must be a Role, not {type(role).__name__}")
    variable = role.env_var
    value = os.environ.get(variable, "").strip()
    if not value:
        raise MissingSignerError(message=f"no signer given and {variable} is not set")
    return _from_key(value, variable)
