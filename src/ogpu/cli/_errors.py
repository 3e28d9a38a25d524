"""How the command line reports failures: one line (``--json``: one JSON object) on stderr.

- SDK errors keep their message, with hints that name Python calls rewritten to the
  ``ogpu`` commands that do the same (``deposit more with vault.deposit`` →
  ``with `ogpu vault deposit```).
- A failure to reach a node or the content store becomes one line under 160
  characters saying what was tried (chain, ``scheme://host:port``) and what to do
  (``--chain devnet``? is ``ogpu devnet`` running?), whatever the transport's own
  message; ``--debug`` prints the whole chain of causes as a traceback first.
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import json
import re
import socket
import ssl
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from ogpu.cli.base import CommandError, UsageError

__all__ = [
    "Handler",
    "Target",
    "cli_text",
    "connection_failure",
    "explain",
    "guarded",
    "report",
    "where",
]

Handler = Callable[[argparse.Namespace], int]

#: Longest host name shown in an error line (longer ones are shortened with an ellipsis).
_HOST_CHARS = 48
#: Longest connection-failure message: with "ogpu: error: " the line stays under 160.
_MESSAGE_CHARS = 145


@dataclass(frozen=True)
class Target:
    """The node a command talks to: chain name, where the choice came from, URL."""

    chain: str
    origin: str  # "--chain", "$OGPU_CHAIN", "--rpc" (detected) or "default"
    url: str


# -- Python hints -> CLI hints ---------------------------------------------------------------------

_CLI_HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"with vault\.deposit\b", "with `ogpu vault deposit`"),
        (r"with vault\.lock\b", "with `ogpu vault lock`"),
        (r"check vault\.is_eligible\b", "check `ogpu vault show`"),
        (r"\bcall unbond first\b", "run `ogpu vault unbond` first"),
        (r"\bthen claim\b", "then `ogpu vault claim`"),
        (r"register it with Nexus\.register first", "`ogpu provider run --register` does it"),
        (
            r"a master must announce it (?:first \(announceProvider\)|with announceProvider first)",
            "pair it with its master: `ogpu provider run --register`",
        ),
        (
            r"the provider must announce it first \(announceMaster\)",
            "pair it with `ogpu provider run --register`",
        ),
        (
            r"pass signer= \(a hex private key or a LocalAccount\) or set the role's env var",
            "pass --key-file FILE or set the role's *_PRIVATE_KEY",
        ),
        (
            r"pass signer= or set the role's \*_PRIVATE_KEY variable",
            "pass --key-file FILE or set the role's *_PRIVATE_KEY",
        ),
        (r"pass a 32-byte hex key or a LocalAccount", "use a 32-byte hex key"),
        (r"is not a valid private key or LocalAccount", "is not a valid private key"),
        (r"an explicit signer= \(no env-var fallback\)", "an explicit --key-file or --role"),
        (
            r"no signer given and (\w+_PRIVATE_KEY) is not set",
            r"no key: set \1 (`ogpu devnet --env-file .env` writes one per role) "
            "or pass a key file option",
        ),
    )
)


def cli_text(message: str) -> str:
    """``message`` on one line, its Python-call hints rewritten as ``ogpu`` commands. No I/O."""
    text = " ".join(str(message).split())
    for pattern, replacement in _CLI_HINTS:
        text = pattern.sub(replacement, text)
    return text


# -- connection failures ---------------------------------------------------------------------------

_DNS_TEXT = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "getaddrinfo failed",
    "failed to resolve",
    "no address associated",
)
_NAMED = {
    "NameResolutionError": "dns",
    "ConnectTimeout": "timeout",
    "ReadTimeout": "timeout",
    "Timeout": "timeout",
    "ConnectTimeoutError": "timeout",
    "ReadTimeoutError": "timeout",
    "RemoteDisconnected": "dropped",
    "SSLError": "tls",
    "LocationParseError": "url",
    "InvalidURL": "url",
}


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and everything behind it: causes, contexts (even suppressed), ``reason``."""
    seen: set[int] = set()
    stack = [error]
    while stack and len(seen) < 64:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (current.__cause__, current.__context__, getattr(current, "reason", None))
        stack.extend(e for e in (*linked, *current.args) if isinstance(e, BaseException))


def _kind_of(error: BaseException) -> str | None:
    if isinstance(error, socket.gaierror):
        return "dns"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ssl.SSLError):
        return "tls"
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "dropped"
    return _NAMED.get(type(error).__name__)


def connection_failure(error: BaseException) -> str | None:
    """``url``, ``dns``, ``refused``, ``timeout``, ``tls`` or ``dropped`` when ``error`` comes from
    failing to reach a server (by the exceptions behind it, else their text); else None."""
    found = {kind for e in _causes(error) if (kind := _kind_of(e)) is not None}
    text = " ".join(str(e) for e in _causes(error)).lower()
    if any(fragment in text for fragment in _DNS_TEXT):
        found.add("dns")
    if "connection refused" in text:
        found.add("refused")
    if "timed out" in text or "read timeout" in text:
        found.add("timeout")
    for kind in ("url", "dns", "refused", "timeout", "tls", "dropped"):
        if kind in found:
            return kind
    return None


def where(url: str, host_chars: int = _HOST_CHARS) -> str:
    """``scheme://host:port`` of ``url``: no credentials, path or query (they may hold API
    keys), the host shortened if very long. No I/O."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "the configured URL"
    if not host:
        return "the configured URL"
    if len(host) > host_chars:
        host = host[: max(host_chars - 1, 1)] + "…"
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme or "http"
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(url: str) -> str:
    shown = where(url)
    return shown.split("://", 1)[-1]


def _chain_hint(kind: str, target: Target) -> str:
    devnet = target.chain == "devnet"
    if kind == "dns":
        if target.origin == "default":
            return "for the local devnet add --chain devnet"
        if target.origin == "$OGPU_CHAIN":
            return "check $OGPU_RPC_URL"
        return "check the host in --rpc / $OGPU_RPC_URL"
    if kind == "refused":
        if target.chain == "unknown":
            return "is the node running? (check --rpc)"
        if devnet:
            return "is `ogpu devnet` running? (or pass --rpc URL)"
        if _loopback(target.url):
            return "is the node running? (for the local devnet: --chain devnet)"
        return "check the URL, or pass --rpc URL"
    if kind == "tls":
        return "a local node speaks http://, not https://"
    if kind == "url":
        return "check --rpc / $OGPU_RPC_URL"
    if devnet:
        return "is `ogpu devnet` healthy? (or pass --rpc URL)"
    return "check the node, or pass --rpc URL"


_WHAT = {
    "url": "not a valid URL",
    "refused": "connection refused",
    "dns": "host not found",
    "timeout": "no answer in time",
    "tls": "TLS handshake failed",
    "dropped": "connection dropped",
}


def _connection_message(kind: str, target: Target) -> str:
    chain = "" if target.chain == "unknown" else f"{target.chain} "
    hint = _chain_hint(kind, target)
    if target.origin == "default":
        hint = f"mainnet is the default; {hint}"
    host_chars = _HOST_CHARS
    while True:  # shorten a long host until the line fits
        message = (
            f"cannot reach the {chain}RPC {where(target.url, host_chars)} ({_WHAT[kind]}); {hint}"
        )
        if len(message) <= _MESSAGE_CHARS or host_chars <= 12:
            return message
        host_chars -= len(message) - _MESSAGE_CHARS


def _store_message(kind: str, url: str | None) -> str:
    shown = where(url) if url else "the content store"
    hint = (
        "is `ogpu devnet` running? (store URL: $OGPU_IPFS_API_URL)"
        if url is None or _loopback(url)
        else "check the gateway URL and retry"
    )
    return f"cannot reach the content store at {shown} ({_WHAT[kind]}); {hint}"


def _is_ipfs(error: BaseException) -> bool:
    return any(type(e).__name__.startswith("IPFS") for e in _causes(error))


def _ipfs_url(error: BaseException) -> str | None:
    for e in _causes(error):
        url = getattr(e, "url", None)
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return url
    return None


def explain(error: BaseException, args: argparse.Namespace) -> CommandError:
    """The one-line :class:`CommandError` to show for an SDK or unexpected ``error``. No I/O."""
    kind = connection_failure(error)
    type_name = type(error).__name__
    if kind is not None:
        if _is_ipfs(error):
            return CommandError(_store_message(kind, _ipfs_url(error)), kind="connection")
        target = getattr(args, "target", None)
        if isinstance(target, Target):
            message = _connection_message(kind, target)
            return CommandError(message, kind="connection", type_name=type_name)
    from ogpu.types import OGPUError

    if isinstance(error, OGPUError):
        return CommandError(cli_text(str(error)) or type_name, kind="sdk", type_name=type_name)
    return CommandError(
        f"unexpected {type_name}: {cli_text(str(error))} (rerun with --debug for the traceback)",
        kind="internal",
        type_name=type_name,
    )


def _print_chain(error: BaseException) -> None:
    """The traceback of ``error`` with every cause and context, even suppressed ones."""
    for e in _causes(error):
        e.__suppress_context__ = False
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)


def guarded(handler: Handler) -> Handler:
    """Wrap a command handler: SDK and unexpected errors become one-line
    :class:`CommandError`s (with ``--debug``, after the full traceback)."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except CommandError:
            raise
        except Exception as exc:
            if getattr(args, "debug", False):
                _print_chain(exc)
            raise explain(exc, args) from None

    return run


def report(error: CommandError, as_json: bool) -> None:
    """Print ``error`` to stderr: ``ogpu: error: ...`` or one JSON object. No other I/O."""
    message = " ".join(str(error).split())
    if as_json:
        body: dict[str, object] = {"kind": error.kind, "message": message}
        if error.type_name:
            body["type"] = error.type_name
        body["exit_code"] = error.exit_code
        print(json.dumps({"error": body}), file=sys.stderr, flush=True)
        return
    if isinstance(error, UsageError) and error.parser is not None:
        error.parser.print_usage(sys.stderr)
        print(f"{error.parser.prog}: error: {message}", file=sys.stderr, flush=True)
        return
    print(f"ogpu: error: {message}", file=sys.stderr, flush=True)
