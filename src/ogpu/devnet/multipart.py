"""``multipart/form-data`` parsing for the devnet content store's uploads. Pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from ogpu.devnet.deploy import DevnetInputError

__all__ = ["FormPart", "MultipartError", "parse_multipart"]


class MultipartError(DevnetInputError):
    """A request body is not valid ``multipart/form-data``."""


@dataclass(frozen=True)
class FormPart:
    """One part of a ``multipart/form-data`` body."""

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes


_BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))', re.IGNORECASE)
_PARAM_RE = re.compile(r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _boundary(content_type: str) -> bytes:
    if not content_type.lower().startswith("multipart/"):
        raise MultipartError("Content-Type must be multipart/form-data")
    match = _BOUNDARY_RE.search(content_type)
    if match is None:
        raise MultipartError("multipart Content-Type has no boundary")
    return (match.group(1) or match.group(2)).encode("latin-1")


def _disposition_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, raw in _PARAM_RE.findall(";" + value.split(";", 1)[1] if ";" in value else ""):
        text = raw.strip()
        if text.startswith('"') and text.endswith('"') and len(text) >= 2:
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        key = key.lower()
        if key.endswith("*"):
            charset, _, rest = text.partition("'")
            _, _, encoded = rest.partition("'")
            params[key[:-1]] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
        else:
            params.setdefault(key, text)
    return params


def _parse_part(raw: bytes) -> FormPart:
    if raw.startswith(b"\r\n"):
        header_block, data = b"", raw[2:]
    else:
        split = raw.find(b"\r\n\r\n")
        if split < 0:
            raise MultipartError("multipart part has no header terminator")
        header_block, data = raw[:split], raw[split + 4 :]
    headers: dict[str, str] = {}
    for line in header_block.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.decode("utf-8", errors="replace").partition(":")
        if not sep:
            raise MultipartError("malformed multipart header line")
        headers[name.strip().lower()] = value.strip()
    params = _disposition_params(headers.get("content-disposition", ""))
    return FormPart(
        name=params.get("name"),
        filename=params.get("filename"),
        content_type=headers.get("content-type"),
        data=data,
    )


def parse_multipart(body: bytes, content_type: str) -> list[FormPart]:
    """Split a ``multipart/form-data`` body into parts. No I/O. Raises MultipartError."""
    delimiter = b"--" + _boundary(content_type)
    position = body.find(delimiter)
    if position < 0 or (position > 0 and body[position - 2 : position] != b"\r\n"):
        raise MultipartError("multipart body does not contain its boundary")
    position += len(delimiter)
    parts: list[FormPart] = []
    while True:
        if body[position : position + 2] == b"--":
            return parts
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise MultipartError("malformed multipart boundary line")
        start = line_end + 2
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise MultipartError("unterminated multipart body")
        parts.append(_parse_part(body[start:end]))
        position = end + 2 + len(delimiter)
