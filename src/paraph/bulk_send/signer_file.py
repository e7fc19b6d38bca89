"""Reading a bulk send's ``signer_file``: Dropbox Sign's CSV, one row per request.

The first line names the columns: for each signer role ``<Role>_name``, ``<Role>_email_address`` and,
optionally, ``<Role>_pin`` and ``<Role>_sms_phone_number`` (role names as in the template, any case); when the
templates have a single signer role, ``name``, ``email_address``, ``pin`` and ``sms_phone_number`` may go
without the role, as in Dropbox Sign's example. A column ending in ``_field`` gives a custom field's value
(``company_field`` fills the merge field ``company``). Any other column, an unknown role or merge field, a
missing name or email column, a file that is not UTF-8 CSV, a row whose cell count differs from the header's,
or more rows than allowed is refused with a message naming the row (lines counted from the header, line 1) and
the column. Blank lines are skipped; the values themselves are checked as the signers of a send are.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from paraph.errors import BadRequest
from paraph.wire.decode import UploadedFile

PATH = "signer_file"
_ATTRS = ("email_address", "sms_phone_number", "name", "pin")
_REQUIRED = ("name", "email_address")
_FIELD_SUFFIX = "_field"


def _refuse(message: str) -> BadRequest:
    return BadRequest(f"{PATH}: {message}", error_path=PATH)


@dataclass(slots=True)
class SignerFile:
    """The rows in ``signer_list``'s shape, and where each value came from (for error messages)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    """The file's line of each row (the header is line 1)."""
    columns: dict[str, str] = field(default_factory=dict)
    """A row's value path (``signers[0].email_address``, ``custom_fields[1].value``) -> its column's header."""

    def where(self, row: int, path: str | None) -> str:
        """``row 3, column 'email_address'`` for a value of row ``row`` (0-based) at ``path``."""
        line = f"row {self.lines[row]}"
        column = self.columns.get(path or "")
        if column is None and path:  # signers[0].role and such: say the signer's first column
            column = self.columns.get(path.rsplit(".", 1)[0] + ".name")
        return f"{line}, column '{column}'" if column is not None else line


def _text(upload: UploadedFile) -> str:
    data = upload.data
    if not data.strip():
        raise _refuse("the file is empty: a header line and one line per signature request are expected")
    if b"\x00" in data or data.startswith(b"%PDF"):
        raise _refuse("not a CSV file (it holds binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse("not a CSV file (it is not UTF-8 text)") from None


def _columns(header: list[str], roles: list[str], merge_names: set[str]) -> list[tuple[str, int | None, str]]:
    """Each column as (kind, role index, name): ("signer", i, attr) or ("field", None, merge field name)."""
    by_role = {r.lower(): i for i, r in enumerate(roles)}
    by_merge = {m.lower(): m for m in merge_names}
    out: list[tuple[str, int | None, str]] = []
    seen: dict[tuple[str, int | None, str], str] = {}
    for text in header:
        head = text.strip()
        low = head.lower()
        where = f"row 1, column '{head}'"
        if not head:
            raise _refuse(f"{where}: a column has no name")
        kind: tuple[str, int | None, str]
        if low.endswith(_FIELD_SUFFIX) and len(low) > len(_FIELD_SUFFIX):
            name = head[: -len(_FIELD_SUFFIX)].strip()
            merge = by_merge.get(name.lower())
            if merge is None:
                raise _refuse(f"{where}: no merge field of the template(s) is named '{name}'")
            kind = ("field", None, merge)
        else:
            attr = next((a for a in _ATTRS if low == a or low.endswith("_" + a)), None)
            if attr is None:
                raise _refuse(
                    f"{where}: unknown column (expected <Role>_name, <Role>_email_address, <Role>_pin, "
                    "<Role>_sms_phone_number or <merge field>_field)"
                )
            if low == attr:
                if len(roles) != 1:
                    raise _refuse(f"{where}: the template(s) have several signer roles: name it, as in '<Role>_{attr}'")
                index: int | None = 0
            else:
                role = head[: -len(attr) - 1].strip()
                index = by_role.get(role.lower())
                if index is None:
                    raise _refuse(f"{where}: the template(s) have no signer role '{role}'")
            kind = ("signer", index, attr)
        if kind in seen:
            raise _refuse(f"{where}: the same value as column '{seen[kind]}'")
        seen[kind] = head
        out.append(kind)
    for i, role in enumerate(roles):
        for attr in _REQUIRED:
            if ("signer", i, attr) not in seen:
                name = attr if len(roles) == 1 else f"{role}_{attr}"
                raise _refuse(f"row 1: the column '{name}' is missing")
    return out


def read(upload: UploadedFile, roles: list[str], merge_names: set[str], max_rows: int) -> SignerFile:
    """The rows of ``upload`` for templates with signer roles ``roles`` and merge fields ``merge_names``."""
    reader = csv.reader(io.StringIO(_text(upload), newline=""), strict=True, skipinitialspace=True)
    out = SignerFile()
    try:
        header = next(reader, None)
        if header is None or not any(c.strip() for c in header):
            raise _refuse("row 1: the header line is empty")
        columns = _columns(header, roles, merge_names)
        fields = [c for c in columns if c[0] == "field"]
        for col, (kind, index, attr) in zip(header, columns, strict=True):
            if kind == "signer":
                out.columns[f"signers[{index}].{attr}"] = col.strip()
            else:
                out.columns[f"custom_fields[{fields.index((kind, index, attr))}].value"] = col.strip()
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(columns):
                raise _refuse(f"row {line}: {len(cells)} cells, where the header has {len(columns)} columns")
            if len(out.rows) >= max_rows:
                raise _refuse(f"row {line}: more than {max_rows} signature requests in one bulk send job")
            signers: dict[int, dict[str, Any]] = {}
            values: list[dict[str, Any]] = []
            for cell, (kind, index, attr) in zip(cells, columns, strict=True):
                value = cell.strip()
                if kind == "field":
                    values.append({"name": attr, "value": value})
                elif index is not None and (value or attr in _REQUIRED):
                    signers.setdefault(index, {"role": roles[index]})[attr] = value
            out.rows.append({"signers": [signers[i] for i in sorted(signers)], "custom_fields": values})
            out.lines.append(line)
    except csv.Error as exc:
        raise _refuse(f"row {reader.line_num}: not valid CSV ({exc})") from None
    if not out.rows:
        raise _refuse("no signature request: the file has a header line and no row")
    return out
