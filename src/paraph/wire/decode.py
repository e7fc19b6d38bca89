"""Request decoding, once for every endpoint: JSON, multipart in SDK and bracket styles, urlencoded, query.

Clients send the same request three ways, and all three decode to the same :class:`DecodedBody`:

- JSON (the official SDKs when no file is attached);
- multipart, SDK style: every array or object is a JSON string under its bare key (``signers=[{...}]``),
  files as ``files[0]``, ``files[1]``;
- multipart or urlencoded, bracket style (the docs' curl examples, older SDKs): ``signers[0][name]=...``,
  ``cc_email_addresses[]=...``, ``metadata[k]=v``, ``file[0]=@a.pdf``.

Rules, and why:

- ``data`` is what the client would have sent as JSON. Values are not coerced here (a title "1" stays a string,
  ``"true"`` stays a string): request models coerce per field with the ``Wire*`` / ``Nullable*`` types below,
  because only the model knows which field is a boolean.
- A bare form key whose value starts with ``[`` or ``{`` is parsed as JSON (the SDKs' encoding). If it is not
  valid JSON it stays a string: ``subject=[Urgent] Please sign`` is a real subject, and a field that needed a
  list reports "not valid JSON" with its path through :data:`WireList` / :data:`WireObject`.
- Bracket keys follow PHP, the server the curl examples were written for: each ``[]`` appends a new element,
  so ``a[][x]=1&a[][y]=2`` is two elements (send ``a[0][x]``, ``a[0][y]`` for one); a container whose keys are
  all indexes becomes a list in index order (``signers[0]``, ``signers[2]`` -> two signers); one with a named
  key stays an object; a repeated bare key keeps its last value.
- ``file``/``file_url`` (legacy names, and ``document/detect_fields``'s singular ones) arrive as
  ``files``/``file_urls``, always lists, in ``files`` (uploads) and ``data`` (URLs) respectively.
- Limits (parts, file size, total size of the text, nesting, list index) are enforced while the body streams
  in, so an oversized upload is refused without being stored. Every malformed or oversized body raises
  :class:`DecodeError`, which the app renders as 400 ``bad_request`` with ``error_path``: never a 500.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import parse_qsl

from pydantic import BeforeValidator
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import ClientDisconnect, HTTPConnection, Request

from paraph.wire.text import bad_text, problem

MAX_DEPTH: Final = 8
"""Brackets per key: ``form_fields_per_document[0][0][api_id]`` needs 3."""
MAX_INDEX: Final = 10_000
MAX_JSON_DEPTH: Final = 32
"""Nesting of a JSON body or JSON form value; real requests stay under 6."""
DEFAULT_MAX_PARTS: Final = 5_000
"""150 form fields sent in bracket style with 9 keys each is already 1,350 parts."""
DEFAULT_MAX_FILE_SIZE: Final = 40 * 1024 * 1024
DEFAULT_MAX_FILES: Final = 50
"""Uploads are held in memory (``UploadedFile.data``), so their number is bounded too."""
DEFAULT_MAX_FIELDS_SIZE: Final = 10 * 1024 * 1024
"""All text of a request together (a JSON or urlencoded body, or the non-file parts of a multipart one)."""

#: Legacy names -> the names the API uses today.
ALIASES: Final = {"file": "files", "file_url": "file_urls"}

_BODYLESS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"0|[1-9][0-9]{0,5}")


class DecodeError(Exception):
    """A body that cannot be read; rendered as 400 ``bad_request`` with ``error_path`` = ``path``."""

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
    data: dict[str, Any]
    """Nested JSON-like values, as if the client had sent JSON."""
    files: dict[str, list[UploadedFile]]
    """Uploads by base name (``files``, ``custom_logo_file``, ...), in index order."""


# -- bracket keys --------------------------------------------------------------------------------------------


class _Node:
    """A container built from bracket keys; :func:`_finish` makes it a list or an object."""

    __slots__ = ("items", "next_index")

    def __init__(self) -> None:
        self.items: dict[int | str, Any] = {}
        self.next_index = 0

    def slot(self, segment: str, path: str) -> int | str:
        if segment == "" or _INDEX.fullmatch(segment):
            index = int(segment) if segment else self.next_index
            if index > MAX_INDEX:
                raise DecodeError(f"{path}: list index {index} is above the limit of {MAX_INDEX}", path)
            return index
        if segment.isascii() and segment.isdigit():  # a huge index, not a name like "007" (PHP keeps those as names)
            if segment.startswith("0"):
                return segment
            raise DecodeError(f"{path}: list index {segment[:12]} is above the limit of {MAX_INDEX}", path)
        return segment

    def put(self, slot: int | str, value: Any) -> None:
        self.items[slot] = value
        if isinstance(slot, int):
            self.next_index = max(self.next_index, slot + 1)


def _split(key: str) -> tuple[str, list[str]]:
    m = _KEY.fullmatch(key)
    if not m:
        raise DecodeError(f"Malformed parameter name {key[:100]!r}", key[:100])
    segments = _SEGMENT.findall(m.group(2))
    if len(segments) > MAX_DEPTH:
        raise DecodeError(f"{m.group(1)} is nested more than {MAX_DEPTH} levels deep", m.group(1))
    return m.group(1), segments


def _join(path: str, slot: int | str) -> str:
    return f"{path}[{slot}]" if isinstance(slot, int) else f"{path}.{slot}"


def _insert(root: _Node, key: str, value: Any) -> None:
    base, segments = _split(key)
    node, path = root, base
    slot: int | str = base
    for segment in segments:
        child = node.items.get(slot)
        if child is None and slot not in node.items:
            child = _Node()
            node.put(slot, child)
        elif not isinstance(child, _Node):
            raise DecodeError(f"{path} is sent both as a value and as a list or object", path)
        node = child
        slot = node.slot(segment, path)
        path = _join(path, slot)
    if isinstance(node.items.get(slot), _Node):
        raise DecodeError(f"{path} is sent both as a value and as a list or object", path)
    node.put(slot, value)


def _finish(value: Any) -> Any:
    if not isinstance(value, _Node):
        return value
    items = {k: _finish(v) for k, v in value.items.items()}
    if all(isinstance(k, int) for k in items):
        return [items[k] for k in sorted(items)]
    return {str(k): v for k, v in items.items()}


def _build(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    root = _Node()
    for key, value in pairs:
        _insert(root, key, value)
    return {str(k): _finish(v) for k, v in root.items.items()}


# -- JSON -------------------------------------------------------------------------------------------------


class _TooDeep(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _loads(text: str | bytes) -> Any:
    """Strict JSON (no NaN/Infinity), raising ValueError for anything unreadable or nested too deep."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise _TooDeep(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_JSON_DEPTH:
                    raise _TooDeep(f"nested more than {MAX_JSON_DEPTH} levels deep")
                stack.append((child, depth + 1))


def _form_value(key: str, value: str) -> Any:
    """A bare key's value: the SDKs send lists and objects as JSON strings."""
    if value.lstrip()[:1] not in ("[", "{"):
        return value
    try:
        return _loads(value)
    except _TooDeep as exc:
        raise DecodeError(f"{key} is {exc}", key) from None
    except ValueError:
        return value  # "[Urgent] Please sign" is a subject, not broken JSON


def _normalize(body: DecodedBody) -> DecodedBody:
    for alias, name in ALIASES.items():
        for where in (body.data, body.files):
            if alias in where:
                if name in where:
                    raise DecodeError(f"Send either {alias} or {name}, not both", alias)
                where[name] = where.pop(alias)
    urls = body.data.get("file_urls")
    if isinstance(urls, str) and not urls.lstrip().startswith("["):  # detect_fields' single file_url
        body.data["file_urls"] = [urls]
    return body


def decode_json(raw: bytes | str) -> DecodedBody:
    """A JSON body: an object, or nothing at all (``{}``)."""
    if not raw.strip():
        return DecodedBody({}, {})
    try:
        data = _loads(raw)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise DecodeError(f"The request body is not valid JSON ({_short(exc)})") from None
    if not isinstance(data, dict):
        raise DecodeError("The request body must be a JSON object")
    return _normalize(DecodedBody(data, {}))


# -- form pairs ---------------------------------------------------------------------------------------------


def decode_pairs(pairs: Iterable[tuple[str, str | UploadedFile]]) -> DecodedBody:
    """Decode form pairs (multipart or urlencoded, in either style) into nested data and the uploads."""
    texts: list[tuple[str, Any]] = []
    uploads: dict[str, dict[int, UploadedFile]] = {}
    for key, value in pairs:
        if isinstance(value, UploadedFile):
            _add_upload(uploads, key, value)
        elif "[" in key:
            texts.append((key, value))
        else:
            texts.append((key, _form_value(key, value)))
    files = {base: [by_index[i] for i in sorted(by_index)] for base, by_index in uploads.items()}
    return _normalize(DecodedBody(_build(texts), files))


def _add_upload(uploads: dict[str, dict[int, UploadedFile]], key: str, upload: UploadedFile) -> None:
    base, segments = _split(key)
    if len(segments) > 1 or (segments and segments[0] != "" and not _INDEX.fullmatch(segments[0])):
        raise DecodeError(f"A file is sent as {base}, {base}[] or {base}[N], not {key[:100]}", key[:100])
    if upload.filename == "" and not upload.data:
        return  # an HTML file input left empty
    by_index = uploads.setdefault(base, {})
    index = int(segments[0]) if segments and segments[0] else max(by_index, default=-1) + 1
    path = f"{base}[{index}]"
    if index > MAX_INDEX:
        raise DecodeError(f"{path}: list index {index} is above the limit of {MAX_INDEX}", path)
    if index in by_index:
        raise DecodeError(f"{path} is sent twice", path)
    by_index[index] = upload


def decode_query(request: HTTPConnection) -> dict[str, Any]:
    """Query parameters with the bracket rules; values stay strings (``?query=[x]`` is a search, not JSON)."""
    items = request.query_params.multi_items()
    if len(items) > DEFAULT_MAX_PARTS:
        raise DecodeError(f"The query string has more than {DEFAULT_MAX_PARTS} parameters")
    return _build(items)  # NUL in a query is refused before routing (wire.text.StorableTextOnly)


# -- reading a request ------------------------------------------------------------------------------------


async def read_body(
    request: Request,
    *,
    max_parts: int = DEFAULT_MAX_PARTS,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    max_fields_size: int = DEFAULT_MAX_FIELDS_SIZE,
    max_files: int = DEFAULT_MAX_FILES,
    max_files_total: int | None = None,
) -> DecodedBody:
    """Read and decode the body by its Content-Type; GET/HEAD/OPTIONS and empty bodies give ``{}``.

    ``max_parts`` bounds form parts (or urlencoded pairs), ``max_file_size`` each upload, ``max_files`` their
    number, ``max_files_total`` the bytes of all uploads together (uploads are held in memory while the
    request is read; default: no bound beyond size x number), ``max_fields_size`` all text together (a JSON
    or urlencoded body as a whole).
    """
    return _checked(await _read_body(request, max_parts, max_file_size, max_fields_size, max_files, max_files_total))


def _checked(body: DecodedBody) -> DecodedBody:
    """Every string of the body is storable text (``wire.text``)."""
    found = bad_text(body.data)
    for name, uploads in body.files.items():
        for i, upload in enumerate(uploads):
            why = problem(upload.filename or "")
            if found is None and why is not None:
                found = (f"{name}[{i}]", f"has a file name that {why}")
    if found is not None:
        path, why = found
        raise DecodeError(f"{path} {why}", path or None)
    return body


async def _read_body(
    request: Request,
    max_parts: int,
    max_file_size: int,
    max_fields_size: int,
    max_files: int,
    max_files_total: int | None,
) -> DecodedBody:
    if request.method in _BODYLESS:
        return DecodedBody({}, {})
    media, params = parse_options_header(request.headers.get("content-type"))
    try:
        if media == b"multipart/form-data":
            total = max_files_total if max_files_total is not None else max_file_size * max_files
            limits = _Limits(max_parts, max_file_size, max_fields_size, max_files, total)
            return decode_pairs(await _read_multipart(request, params, limits))
        raw = await _read_capped(request, max_fields_size)
    except ClientDisconnect:
        raise DecodeError("The client disconnected before sending the whole body") from None
    if not raw.strip():
        return DecodedBody({}, {})
    if media == b"application/x-www-form-urlencoded":
        return decode_pairs(_parse_urlencoded(raw, max_parts))
    if media in (b"", b"application/json") or media.endswith(b"+json"):
        return decode_json(raw)
    kind = media.decode("latin-1")[:100]
    raise DecodeError(f"Unsupported Content-Type {kind}: send application/json or multipart/form-data")


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise DecodeError(f"The request body is larger than the limit of {_size(limit)}")
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise DecodeError(f"The request body is larger than the limit of {_size(limit)}")
    return bytes(buf)


def _parse_urlencoded(raw: bytes, max_parts: int) -> list[tuple[str, str | UploadedFile]]:
    """Decoded here rather than by Starlette, which reads raw bytes as latin-1 (``curl -d 'name=Jöhn'``)."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=max_parts, errors="strict")
    except UnicodeDecodeError:
        raise DecodeError("The form body is not valid UTF-8") from None
    except ValueError:  # parse_qsl's max_num_fields
        raise DecodeError(f"The form has more than {max_parts} fields") from None
    return [(k, v) for k, v in pairs]


def _files_too_large(limits: _Limits) -> str:
    return f"The files of the request are larger than the limit of {_size(limits.files_total)} together"


@dataclass(frozen=True, slots=True)
class _Limits:
    parts: int
    file_size: int
    fields_size: int
    files: int
    files_total: int


class _Collector:
    """python-multipart callbacks that keep each part in memory, enforcing the limits as bytes arrive."""

    def __init__(self, limits: _Limits) -> None:
        self.limits = limits
        self.pairs: list[tuple[str, str | UploadedFile]] = []
        self.parts = 0
        self.files = 0
        self.file_bytes = 0
        self.text_bytes = 0
        self._start_part()

    def _start_part(self) -> None:
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.content_type: str | None = None
        self.name = ""
        self.filename: str | None = None
        self.data = bytearray()

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.parts:
            raise DecodeError(f"The form has more than {self.limits.parts} parts")
        self._start_part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self.header_name.lower()
        if name == b"content-disposition":
            self.disposition = bytes(self.header_value)
        elif name == b"content-type":
            self.content_type = _text(bytes(self.header_value)).strip() or None
        self.header_name, self.header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"name" not in options:
            raise DecodeError("A part of the form has no name in its Content-Disposition header")
        self.name = _text(options[b"name"])
        self.filename = _text(options[b"filename"]) if b"filename" in options else None
        if self.filename is not None:
            self.files += 1
            if self.files > self.limits.files:
                raise DecodeError(f"The form has more than {self.limits.files} files")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self.filename is not None:
            if len(self.data) + size > self.limits.file_size:
                path = self.name[:100]
                raise DecodeError(f"{path} is larger than the limit of {_size(self.limits.file_size)}", path)
            self.file_bytes += size
            if self.file_bytes > self.limits.files_total:
                raise DecodeError(_files_too_large(self.limits), "files")
        else:
            self.text_bytes += size
            if self.text_bytes > self.limits.fields_size:
                limit = _size(self.limits.fields_size)
                raise DecodeError(f"The text fields of the form are larger than the limit of {limit}")
        self.data += data[start:end]

    def on_part_end(self) -> None:
        if self.filename is not None:
            self.pairs.append((self.name, UploadedFile(self.filename, self.content_type, bytes(self.data))))
            return
        try:
            self.pairs.append((self.name, self.data.decode("utf-8")))
        except UnicodeDecodeError:
            path = self.name[:100]
            raise DecodeError(f"{path} is not valid UTF-8 text", path) from None


async def _read_multipart(
    request: Request, params: dict[bytes, bytes], limits: _Limits
) -> list[tuple[str, str | UploadedFile]]:
    boundary = params.get(b"boundary")
    if not boundary:
        raise DecodeError("The multipart Content-Type has no boundary")
    declared = request.headers.get("content-length", "")
    # Refused before reading when even the declared length is beyond all the limits together (the slack is
    # for part headers and boundaries).
    if declared.isdigit() and int(declared) > limits.files_total + limits.fields_size + 64 * limits.parts + 65536:
        raise DecodeError(_files_too_large(limits), "files")
    collector = _Collector(limits)
    received = 0
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": collector.on_part_begin,
                "on_header_field": collector.on_header_field,
                "on_header_value": collector.on_header_value,
                "on_header_end": collector.on_header_end,
                "on_headers_finished": collector.on_headers_finished,
                "on_part_data": collector.on_part_data,
                "on_part_end": collector.on_part_end,
            },
        )
        async for chunk in request.stream():
            received += len(chunk)
            parser.write(chunk)
    except FormParserError as exc:
        raise DecodeError(f"The multipart body is malformed ({_short(exc)})") from None
    if received and parser.state != MultipartState.END:
        raise DecodeError("The multipart body ends before its closing boundary")
    return collector.pairs


def _text(raw: bytes) -> str:
    """Header parameters come back latin-1 encoded; clients write them in UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _size(n: int) -> str:
    mib = 1024 * 1024
    return f"{n // mib} MB" if n >= mib and n % mib == 0 else f"{n} bytes"


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


# -- coercion for request models --------------------------------------------------------------------------

T = TypeVar("T")

_TRUE: Final = frozenset({"true", "1", "on"})
_FALSE: Final = frozenset({"false", "0", "off"})


def coerce_bool(v: Any) -> bool:
    """``true``/``false``/``1``/``0`` (SDKs and curl) and ``on``/``off`` (HTML forms), as JSON or text."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        text = v.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("Input should be true or false")


def coerce_int(v: Any) -> int:
    """A JSON integer or its decimal text (form fields are text); booleans are not integers."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"\s*[-+]?[0-9]{1,18}\s*", v):
        return int(v)
    raise ValueError("Input should be an integer")


def null_to_none(v: Any) -> Any:
    """The text ``null`` is how form clients clear a nullable field."""
    return None if isinstance(v, str) and v.strip() == "null" else v


def json_string(v: Any) -> Any:
    """A list or object that arrived as a JSON string (a form value kept as text, or a double-encoding client)."""
    if isinstance(v, str) and v.lstrip()[:1] in ("[", "{"):
        try:
            parsed = _loads(v)
        except ValueError as exc:
            raise ValueError(f"Input is not valid JSON ({_short(exc)})") from None
        found = bad_text(parsed)
        if found is not None:
            where, why = found
            raise ValueError(f"{where} {why}" if where else f"Input {why}")
        return parsed
    return v


WireBool = Annotated[bool, BeforeValidator(coerce_bool)]
WireInt = Annotated[int, BeforeValidator(coerce_int)]
Nullable = Annotated[T | None, BeforeValidator(null_to_none)]
"""``Nullable[WireInt]``: ``"null"`` (and JSON null) -> None, anything else validated as T."""
NullableStr = Nullable[str]
NullableInt = Nullable[WireInt]
NullableBool = Nullable[WireBool]
WireList = Annotated[list[T], BeforeValidator(json_string)]
"""A list sent as a list, or as a JSON string of one."""
WireObject = Annotated[T, BeforeValidator(json_string)]
"""A dict or model sent as an object, or as a JSON string of one: ``WireObject[SubSigningOptions]``."""
