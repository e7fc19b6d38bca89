"""The ``query`` of ``GET /signature_request/list``: Dropbox Sign's search syntax, compiled to SQL.

Syntax (the legacy search guide): terms are ``field:value`` or bare words; ``"quoted values"`` keep their
spaces; terms side by side must all match, ``AND`` and ``OR`` (upper case; lower case words are terms)
combine them, ``OR`` binding looser, and parentheses group. Dates take ranges, ``[a TO b]`` inclusive and
``{a TO b}`` exclusive (mixed brackets allowed, ``*`` for an open end), or a single day.

Fields: ``title``, ``subject``, ``message``, ``to`` (a signer's email or name), ``from`` / ``owner`` (the
requester's email), ``filename``, ``metadata`` (a key or value containing the text), ``created`` (date),
``complete``, ``declined``, ``test_mode``, ``awaiting_my_signature`` (booleans), ``template`` (Paraph has
none: matches nothing unless false). ``me`` is the caller, as Dropbox Sign documents it: ``from:me`` are the
requests the caller sent, ``to:me`` those with the caller's email among the signers. Text matches are
case-insensitive substring matches. A bare word matches title, subject, message, metadata, signers, requester
or file name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from paraph.errors import BadRequest
from paraph.models import Account, Document, SignatureRequest, Signer
from paraph.models.signature_request import SignerStatus

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 50
_FIELD = re.compile(r"([A-Za-z_]+):")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
TEXT_FIELDS = frozenset({"title", "subject", "message", "to", "from", "owner", "filename", "metadata"})
BOOL_FIELDS = frozenset({"complete", "declined", "test_mode", "awaiting_my_signature", "template"})
FIELDS = TEXT_FIELDS | BOOL_FIELDS | {"created"}


def _error(message: str) -> BadRequest:
    return BadRequest(f"query: {message}", error_path="query")


@dataclass(frozen=True, slots=True)
class Range:
    low: str
    high: str
    low_inclusive: bool
    high_inclusive: bool


@dataclass(frozen=True, slots=True)
class Term:
    field: str | None
    value: str | Range


Token = Term | str  # "AND", "OR", "(", ")"


def tokenize(query: str) -> list[Token]:
    if len(query) > MAX_QUERY_LENGTH:
        raise _error(f"longer than {MAX_QUERY_LENGTH} characters")
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c in "()":
            tokens.append(c)
            i += 1
            continue
        field: str | None = None
        m = _FIELD.match(query, i)
        if m is not None:
            field = m.group(1).lower()
            if field not in FIELDS:
                raise _error(f"unknown search field '{m.group(1)}'")
            i = m.end()
        value, i = _value(query, i, field)
        if field is None and value in ("AND", "OR"):
            tokens.append(str(value))
        else:
            tokens.append(Term(field, value))
    if sum(isinstance(t, Term) for t in tokens) > MAX_TERMS:
        raise _error(f"more than {MAX_TERMS} terms")
    return tokens


def _value(query: str, i: int, field: str | None) -> tuple[str | Range, int]:
    n = len(query)
    if i < n and query[i] == '"':
        end = query.find('"', i + 1)
        if end < 0:
            raise _error("a quoted value is not closed")
        return query[i + 1 : end], end + 1
    if i < n and query[i] in "[{" and field is not None:
        end = min((p for p in (query.find("]", i), query.find("}", i)) if p >= 0), default=-1)
        if end < 0:
            raise _error("a range is not closed with ] or }")
        parts = query[i + 1 : end].split()
        if len(parts) != 3 or parts[1] != "TO":
            raise _error("a range reads [from TO to]")
        return Range(parts[0], parts[2], query[i] == "[", query[end] == "]"), end + 1
    start = i
    while i < n and not query[i].isspace() and query[i] not in "()":
        i += 1
    if i == start:
        raise _error(f"{field or 'a term'} has no value")
    return query[start:i], i


class _Parser:
    def __init__(self, tokens: list[Token], caller: Account) -> None:
        self.tokens = tokens
        self.pos = 0
        self.caller = caller

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> ColumnElement[bool]:
        clause = self.or_expr()
        if self.peek() is not None:
            raise _error(f"unexpected '{self.peek()}'")
        return clause

    def or_expr(self) -> ColumnElement[bool]:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else sa.or_(*parts)

    def and_expr(self) -> ColumnElement[bool]:
        parts = [self.unary()]
        while True:
            token = self.peek()
            if token == "AND":  # noqa: S105 - an operator, not a password
                self.pos += 1
                parts.append(self.unary())
            elif token is not None and token not in ("OR", ")"):
                parts.append(self.unary())
            else:
                break
        return parts[0] if len(parts) == 1 else sa.and_(*parts)

    def unary(self) -> ColumnElement[bool]:
        token = self.peek()
        if token is None:
            raise _error("ends where a term was expected")
        self.pos += 1
        if token == "(":  # noqa: S105 - a parenthesis, not a password
            clause = self.or_expr()
            if self.peek() != ")":
                raise _error("a parenthesis is not closed")
            self.pos += 1
            return clause
        if isinstance(token, Term):
            return term_clause(token, self.caller)
        raise _error(f"unexpected '{token}'")


def _contains(column: sa.ColumnElement[str] | sa.orm.InstrumentedAttribute[str], text: str) -> ColumnElement[bool]:
    return sa.func.lower(column).contains(text.lower(), autoescape=True)


def _signer_matches(text: str) -> ColumnElement[bool]:
    return sa.exists().where(
        Signer.signature_request_id == SignatureRequest.id,
        sa.or_(_contains(Signer.email_address, text), _contains(Signer.name, text)),
    )


def _is_me(value: str) -> bool:
    return value.lower() == "me"


def _signer_is(email: str) -> ColumnElement[bool]:
    return sa.exists().where(
        Signer.signature_request_id == SignatureRequest.id,
        sa.func.lower(Signer.email_address) == email.lower(),
    )


def _requester_matches(text: str) -> ColumnElement[bool]:
    return sa.exists().where(Account.id == SignatureRequest.account_id, _contains(Account.email_address, text))


def _filename_matches(text: str) -> ColumnElement[bool]:
    return sa.exists().where(
        Document.signature_request_id == SignatureRequest.id,
        sa.or_(_contains(Document.filename, text), _contains(sa.func.coalesce(Document.source_url, ""), text)),
    )


def _metadata_matches(text: str) -> ColumnElement[bool]:
    return _contains(sa.cast(SignatureRequest.metadata_, sa.Text), text)


def _boolean(term: Term) -> bool:
    value = term.value
    if isinstance(value, str) and value.lower() in _TRUE:
        return True
    if isinstance(value, str) and value.lower() in _FALSE:
        return False
    raise _error(f"{term.field} takes true or false")


def _day(text: str) -> dt.datetime | None:
    if text == "*":
        return None
    m = _DATE.fullmatch(text)
    if m is None:
        raise _error(f"'{text}' is not a date like 2024-01-31")
    try:
        return dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=dt.UTC)
    except ValueError:
        raise _error(f"'{text}' is not a date like 2024-01-31") from None


def _created(term: Term) -> ColumnElement[bool]:
    one_day = dt.timedelta(days=1)
    column = SignatureRequest.created_at
    value = term.value
    if isinstance(value, str):
        day = _day(value)
        if day is None:
            return sa.true()
        return sa.and_(column >= day, column < day + one_day)
    low, high = _day(value.low), _day(value.high)
    parts: list[ColumnElement[bool]] = []
    if low is not None:
        parts.append(column >= (low if value.low_inclusive else low + one_day))
    if high is not None:
        parts.append(column < (high + one_day if value.high_inclusive else high))
    return sa.and_(sa.true(), *parts)


def term_clause(term: Term, caller: Account) -> ColumnElement[bool]:
    field, value = term.field, term.value
    if field == "created":
        return _created(term)
    if field in BOOL_FIELDS:
        wanted = _boolean(term)
        if field == "complete":
            return SignatureRequest.is_complete.is_(wanted)
        if field == "declined":
            return SignatureRequest.is_declined.is_(wanted)
        if field == "test_mode":
            return SignatureRequest.test_mode.is_(wanted)
        if field == "template":
            return sa.true() if not wanted else sa.false()
        awaiting = sa.exists().where(
            Signer.signature_request_id == SignatureRequest.id,
            sa.func.lower(Signer.email_address) == caller.email_address.lower(),
            Signer.status_code == SignerStatus.AWAITING_SIGNATURE,
        )
        return awaiting if wanted else sa.not_(awaiting)
    if isinstance(value, Range):
        raise _error(f"{field or 'a word'} does not take a range")
    if field == "title":
        return _contains(SignatureRequest.title, value)
    if field == "subject":
        return _contains(sa.func.coalesce(SignatureRequest.subject, ""), value)
    if field == "message":
        return _contains(sa.func.coalesce(SignatureRequest.message, ""), value)
    if field == "to":
        return _signer_is(caller.email_address) if _is_me(value) else _signer_matches(value)
    if field in ("from", "owner"):
        return SignatureRequest.account_id == caller.id if _is_me(value) else _requester_matches(value)
    if field == "filename":
        return _filename_matches(value)
    if field == "metadata":
        return _metadata_matches(value)
    return sa.or_(
        _contains(SignatureRequest.title, value),
        _contains(sa.func.coalesce(SignatureRequest.subject, ""), value),
        _contains(sa.func.coalesce(SignatureRequest.message, ""), value),
        _metadata_matches(value),
        _signer_matches(value),
        _requester_matches(value),
        _filename_matches(value),
    )


def compile_query(query: str | None, caller: Account) -> ColumnElement[bool] | None:
    """The WHERE clause of a search, or None for an empty one; raises BadRequest (``error_path`` query)."""
    if query is None or not query.strip():
        return None
    return _Parser(tokenize(query), caller).parse()
