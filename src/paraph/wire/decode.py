"""Request decoding, once for every endpoint: JSON, multipart in SDK and bracket styles, urlencoded, query.

Clients send the same request three ways:
- JSON (the official SDKs when no file is attached);
- multipart, SDK style: every array or object is a JSON string under its bare key (``signers=[{...}]``),
  files as ``files[0]``, ``files[1]``;
- multipart or urlencoded, bracket style (the docs' curl examples, older SDKs): ``signers[0][name]=...``,
  ``cc_email_addresses[]=...``, ``metadata[k]=v``, ``file[0]=@a.pdf``.
All three decode to the same nested structure (:class:`DecodedBody`). Types are not coerced here, a title
"1" stays a string; request models coerce with the ``Wire*`` annotated types below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator
from starlette.datastructures import UploadFile
from starlette.requests import Request

MAX_DEPTH = 8
MAX_INDEX = 10_000
DEFAULT_MAX_PARTS = 5_000
DEFAULT_MAX_FILE_SIZE = 40 * 1024 * 1024
DEFAULT_MAX_FIELDS_SIZE = 10 * 1024 * 1024

#: Legacy names -> the names the API uses today.
ALIASES = {"file": "files", "file_url": "file_urls"}

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class DecodeError(Exception):
    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(slots=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(slots=True)
class DecodedBody:
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[UploadedFile]] = field(default_factory=dict)


class _Sparse(dict[int, Any]):
    """A list being built from indexed keys; becomes a list in index order at the end."""


def _split(key: str) -> tuple[str, list[str]]:
    m = _KEY.match(key)
    if not m:
        raise DecodeError(f"Malformed parameter name {key!r}", key)
    base, rest = m.group(1), m.group(2)
    parts = _PART.findall(rest)
    if len(parts) > MAX_DEPTH:
        raise DecodeError(f"Parameter {key!r} is nested too deeply", key)
    return ALIASES.get(base, base), parts


def _maybe_json(key: str, value: str) -> Any:
    stripped = value.lstrip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            raise DecodeError(f"{key} is not valid JSON", key) from None
    return value


def _finish(node: Any) -> Any:
    if isinstance(node, _Sparse):
        return [_finish(node[i]) for i in sorted(node)]
    if isinstance(node, dict):
        return {k: _finish(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_finish(v) for v in node]
    return node


def _insert(root: dict[str, Any], key: str, base: str, parts: list[str], value: Any) -> None:
    container: Any = root
    slot: Any = base
    path = base
    for part in parts:
        nxt_is_list = part == "" or part.isdigit()
        # Fetch or create the child at `slot` in `container`.
        if isinstance(container, list):  # only for "[]" appends
            child = _Sparse() if nxt_is_list else {}
            container.append(child)
            container = child
        else:
            existing = container.get(slot)
            if existing is None:
                existing = _Sparse() if nxt_is_list else {}
                container[slot] = existing
            elif not isinstance(existing, dict):
                raise DecodeError(f"{path} is given both as a value and as a list or object", path)
            container = existing
        if part == "":
            if not isinstance(container, _Sparse):
                raise DecodeError(f"{path} mixes [] with named keys", path)
            # PHP semantics: each [] appends a new element.
            slot = len(container) and (max(container) + 1)
            path += "[]"
        elif part.isdigit():
            if not isinstance(container, _Sparse):
                raise DecodeError(f"{path} mixes indexes with named keys", path)
            idx = int(part)
            if idx > MAX_INDEX:
                raise DecodeError(f"Index {idx} in {key!r} is too large", key)
            slot = idx
            path += f"[{idx}]"
        else:
            if isinstance(container, _Sparse):
                raise DecodeError(f"{path} mixes indexes with named keys", path)
            slot = part
            path += f".{part}"
    if isinstance(container, dict) and slot in container and isinstance(container[slot], dict):
        raise DecodeError(f"{path} is given both as a value and as a list or object", path)
    container[slot] = value


def decode_pairs(pairs: Iterable[tuple[str, str | UploadedFile]]) -> DecodedBody:
    """Decode form pairs (multipart or urlencoded) into a nested structure and the uploads."""
    root: dict[str, Any] = {}
    files: dict[str, list[tuple[int, UploadedFile]]] = {}
    for key, value in pairs:
        base, parts = _split(key)
        if isinstance(value, UploadedFile):
            if parts and not all(p == "" or p.isdigit() for p in parts):
                raise DecodeError(f"Unexpected file parameter {key!r}", key)
            seq = files.setdefault(base, [])
            order = int(parts[0]) if parts and parts[0].isdigit() else (len(seq) and seq[-1][0] + 1)
            if order > MAX_INDEX:
                raise DecodeError(f"Index {order} in {key!r} is too large", key)
            seq.append((order, value))
            continue
        v: Any = _maybe_json(base, value) if not parts else value
        _insert(root, key, base, parts, v)
    data = _finish(root)
    return DecodedBody(data, {k: [f for _, f in sorted(v, key=lambda t: t[0])] for k, v in files.items()})


def _decode_json(raw: bytes) -> DecodedBody:
    if not raw.strip():
        return DecodedBody()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise DecodeError("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise DecodeError("The request body must be a JSON object")
    for alias, name in ALIASES.items():
        if alias in data and name not in data:
            data[name] = data.pop(alias)
    return DecodedBody(data)


async def read_body(
    request: Request,
    *,
    max_parts: int = DEFAULT_MAX_PARTS,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    max_fields_size: int = DEFAULT_MAX_FIELDS_SIZE,
) -> DecodedBody:
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return DecodedBody()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(
                max_files=max_parts, max_fields=max_parts, max_part_size=max_fields_size
            )
        except DecodeError:
            raise
        except Exception as exc:  # malformed multipart, too many parts, a part too large
            raise DecodeError(f"The form body could not be read: {exc}") from None
        pairs: list[tuple[str, str | UploadedFile]] = []
        try:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read(max_file_size + 1)
                    if len(data) > max_file_size:
                        raise DecodeError(f"{key} is larger than the limit of {max_file_size} bytes", key)
                    pairs.append((key, UploadedFile(value.filename, value.content_type, data)))
                else:
                    pairs.append((key, value))
        finally:
            await form.close()
        return decode_pairs(pairs)
    raw = await request.body()
    if ctype in ("application/json", "") or ctype.endswith("+json"):
        return _decode_json(raw)
    if ctype.startswith("text/"):
        return _decode_json(raw)
    raise DecodeError(f"Unsupported content type {ctype}")


def decode_query(request: Request) -> dict[str, Any]:
    """Query parameters with the same bracket rules (values stay strings)."""
    root: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        base, parts = _split(key)
        _insert(root, key, base, parts, value)
    return _finish(root)  # type: ignore[no-any-return]


# -- coercion for request models -------------------------------------------------------------------------

_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no", ""}


def coerce_bool(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    return v  # let pydantic report it


def coerce_int(v: Any) -> Any:
    if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        return int(v)
    return v


def null_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and v.strip().lower() == "null" else v


def json_string(v: Any) -> Any:
    """A list or object that arrived as a JSON string (some clients double-encode)."""
    if isinstance(v, str) and v.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


WireBool = Annotated[bool, BeforeValidator(coerce_bool)]
WireInt = Annotated[int, BeforeValidator(coerce_int)]
NullableStr = Annotated[str | None, BeforeValidator(null_to_none)]
NullableInt = Annotated[int | None, BeforeValidator(lambda v: coerce_int(null_to_none(v)))]
