"""Settings: the only code that reads the environment.

Every setting is an environment variable prefixed ``PARAPH_``. The defaults run Paraph with no configuration
at all: SQLite and local files under ``./var``, a secret key generated into the data directory.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RETRY_DELAYS = "300,900,2700,8100,24300,72900"
MIN_PDF_MEMORY_MB = 384


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARAPH_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Where SQLite, documents, mail and keys live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default a SQLite file in the data dir. PostgreSQL: postgresql+psycopg://...",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The public origin of every URL Paraph hands out; unset: http://127.0.0.1:PORT.",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port `paraph serve` listens on (--port overrides).")
    secret_key: str | None = Field(
        default=None, description="Encrypts API keys and signs tokens; generated into the data dir if unset."
    )
    # Callbacks
    callback_retry_delays: str = Field(
        default=DEFAULT_RETRY_DELAYS,
        description="Seconds between a failed attempt and the next, comma-separated.",
    )
    callback_timeout: float = Field(default=30.0, gt=0, description="Seconds before a callback attempt times out.")
    callback_allow_private: bool = Field(
        default=False, description="Allow http and loopback/private callback URLs (local development)."
    )
    callback_disable_after: int = Field(
        default=5, description="Consecutive failed events after which an endpoint is disabled (events held)."
    )
    callback_retention_days: int = Field(default=30, description="Days delivered payloads are kept.")
    callback_concurrency: int = Field(default=100, ge=1, description="Callback POSTs in flight per worker process.")
    callback_max_in_flight_per_endpoint: int = Field(
        default=25,
        ge=1,
        description=(
            "Callback POSTs in flight to one endpoint (the account's URL or one app's) per worker process, while"
            " another endpoint's callbacks wait (alone and answering within 1 s, an endpoint may use all the"
            " senders but this many)."
        ),
    )
    callback_max_in_flight_per_account: int = Field(
        default=50,
        ge=1,
        description=(
            "Callback POSTs in flight to one account's endpoints together per worker process, while another"
            " endpoint's callbacks wait."
        ),
    )
    # Mail
    smtp_url: str | None = Field(
        default=None,
        description="smtp://[user:pass@]host:port[?starttls=1] or smtps://...; unset: .eml files in DATA_DIR/mail.",
    )
    mail_from: str = Field(default="Paraph <noreply@paraph.local>", description="From header of outgoing mail.")
    # API
    rate_limit_per_hour: int = Field(
        default=0,
        description="Requests per hour per API key (/v3 and /paraph/v1); 0 disables throttling (headers still sent).",
    )
    rate_limit_max_keys: int = Field(
        default=100_000,
        description="API keys whose hourly request count is held in memory at once (least recent dropped first).",
    )
    # The callback inspector
    inspector: Literal["open", "account", "off"] | None = Field(
        default=None,
        description="Who may post to the callback inspector (POST /paraph/inspect/<name>): open (any name), "
        "account (only names an account created), off; unset: open with PARAPH_CALLBACK_ALLOW_PRIVATE=1, "
        "else account.",
    )
    inspector_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024 * 1024,
        description="Bytes the inspector keeps in all (the largest inspector's oldest captures go first).",
    )
    inspector_name_max_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=256 * 1024,
        description="Bytes the inspector keeps per name (its oldest captures go first).",
    )
    inspector_per_minute: int = Field(
        default=600, ge=1, description="Requests per minute one client IP may post to the inspector (then 429)."
    )
    max_files: int = Field(default=20, description="Files per signature request.")
    max_file_bytes: int = Field(default=40 * 1024 * 1024, description="Bytes per uploaded or fetched file.")
    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="Bytes of all the files uploaded with one request together (held in memory while read).",
    )
    max_pages: int = Field(default=500, description="Pages per document.")
    bulk_send_max_rows: int = Field(
        default=250,
        ge=1,
        le=100_000,
        description="Signature requests one bulk send job may make (Dropbox Sign's limit is 250); more rows are"
        " refused with 400.",
    )
    pdf_timeout: float = Field(
        default=120.0,
        gt=0,
        description="Seconds one PDF task (checking, rendering, detecting, sealing) may run before its process is"
        " killed and replaced; the document gets file_error.",
    )
    convert_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds LibreOffice may take to convert one office, HTML or text file to PDF before it is killed"
        " and replaced; the document gets file_error.",
    )
    pdf_memory_mb: int = Field(
        default=1024,
        ge=0,
        description="Address space of each PDF process in MiB, 0 (no limit) or at least 384; a task past it fails"
        " (file_error) and the process is replaced.",
    )
    pdf_max_page_megapixels: int = Field(
        default=100,
        ge=1,
        description="Megapixels of the images one page of a document may draw (decoded size); past it the"
        " document is refused (file_error).",
    )
    pdf_max_document_megapixels: int = Field(
        default=5000,
        ge=1,
        description="Megapixels of the images all the pages of a document may draw together, and of its page"
        " images; past it the document is refused (file_error).",
    )
    sign_url_ttl_minutes: int = Field(default=60, description="Minutes an embedded sign URL stays valid.")
    edit_url_ttl_minutes: int = Field(
        default=60, description="Minutes a claim URL (unclaimed draft) or a template edit URL stays valid.", ge=1
    )
    seal_pkcs12: Path | None = Field(default=None, description="PKCS#12 file sealing final documents.")
    seal_pkcs12_password: str | None = Field(default=None, description="Password of the PKCS#12 file.")
    workers: int = Field(default=1, description="Background worker loops `paraph serve` runs in-process.")
    # Operations
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text, or json: one JSON object per line with request_id, account_id and "
        "signature_request_id where known.",
    )
    metrics_token: str | None = Field(
        default=None,
        description="If set, GET /metrics needs Authorization: Bearer <this token>; unset, /metrics is open.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="A directory the Paraph processes of one host share for /metrics (paraph serve and paraph "
        "worker summed); clear it when the host starts (a tmpfs such as /run). Unset: /metrics shows its own "
        "process only.",
    )
    storage_url: str | None = Field(
        default=None,
        description="Where document files live: file:///path, or s3://bucket/prefix?endpoint_url=...&region=..."
        " for any S3-compatible service (credentials from the standard AWS variables or instance role);"
        " unset: DATA_DIR/files.",
    )

    storage_presigned_urls: bool = Field(
        default=False,
        description="With an s3:// PARAPH_STORAGE_URL: file_url responses (files_as_file_url) are presigned URLs"
        " of the bucket, with the same expiry, instead of signed URLs served by Paraph. Only where clients can"
        " reach the bucket.",
    )

    # Each validator's message names the expected form; the CLI prints it beside the variable's name.

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")) or len(v) <= len("https://"):
            raise ValueError("expected an origin such as https://sign.example.com")
        return v.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(v)
        except ArgumentError:
            raise ValueError(
                "expected a SQLAlchemy URL such as postgresql+psycopg://user:pass@host/db or sqlite:////path/file"
            ) from None
        return v

    @field_validator("pdf_memory_mb")
    @classmethod
    def _check_pdf_memory(cls, v: int) -> int:
        if 0 < v < MIN_PDF_MEMORY_MB:
            raise ValueError(
                f"expected 0 (no limit) or at least {MIN_PDF_MEMORY_MB} (MiB: a PDF process needs about 250 to start)"
            )
        return v

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, v: str | None) -> str | None:
        if not v or not v.strip():
            return None
        parse_storage_url(v.strip())
        return v.strip()

    @field_validator("callback_retry_delays")
    @classmethod
    def _check_retry_delays(cls, v: str) -> str:
        try:
            delays = _parse_delays(v)
        except ValueError:
            delays = []
        if not delays:
            raise ValueError("expected seconds separated by commas, e.g. 300,900,2700 (no units)")
        return v

    @field_validator("inspector", mode="before")
    @classmethod
    def _check_inspector(cls, v: object) -> object:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if not isinstance(v, str) or v.strip().lower() not in ("open", "account", "off"):
            raise ValueError("expected open, account or off")
        return v.strip().lower()

    @field_validator("seal_pkcs12")
    @classmethod
    def _check_seal_file(cls, v: Path | None) -> Path | None:
        if v is None or str(v) == "":
            return None
        if not v.is_file():
            raise ValueError(f"expected the path of a PKCS#12 (.p12/.pfx) file; {v} is not a file")
        try:
            v.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read {v}: {exc.strerror}") from None
        return v

    @model_validator(mode="after")
    def _check_seal_opens(self) -> Settings:
        if self.seal_pkcs12 is not None:
            from cryptography.hazmat.primitives.serialization import pkcs12

            password = self.seal_pkcs12_password
            try:
                key, cert, _ = pkcs12.load_key_and_certificates(
                    self.seal_pkcs12.read_bytes(), password.encode() if password is not None else None
                )
            except ValueError:
                raise ValueError(
                    "PARAPH_SEAL_PKCS12: cannot open it with PARAPH_SEAL_PKCS12_PASSWORD"
                    " (expected a PKCS#12 file and its password)"
                ) from None
            if key is None or cert is None:
                raise ValueError("PARAPH_SEAL_PKCS12: expected a PKCS#12 file holding a private key and certificate")
        return self

    @model_validator(mode="after")
    def _check_presigned_urls(self) -> Settings:
        if self.storage_presigned_urls and self.storage_location.scheme != "s3":
            raise ValueError(
                "PARAPH_STORAGE_PRESIGNED_URLS: expected an s3:// PARAPH_STORAGE_URL (a folder has no presigned URLs)"
            )
        return self

    @model_validator(mode="after")
    def _base_url_follows_port(self) -> Settings:
        if "base_url" not in self.model_fields_set:
            self.base_url = f"http://127.0.0.1:{self.port}"
        return self

    @property
    def inspector_mode(self) -> Literal["open", "account", "off"]:
        """PARAPH_INSPECTOR, or its default: open for local development (PARAPH_CALLBACK_ALLOW_PRIVATE=1),
        account otherwise."""
        if self.inspector is not None:
            return self.inspector
        return "open" if self.callback_allow_private else "account"

    @property
    def retry_delays(self) -> list[float]:
        return _parse_delays(self.callback_retry_delays)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paraph.sqlite3').resolve()}"

    @property
    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        return _secret_from_file(self.data_dir.resolve())

    @property
    def storage_location(self) -> StorageLocation:
        """PARAPH_STORAGE_URL parsed; unset: the files folder of the data dir."""
        if self.storage_url:
            return parse_storage_url(self.storage_url)
        return StorageLocation(scheme="file", path=(self.data_dir / "files").resolve())

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """Where document files live: a folder (``file``) or a bucket and key prefix (``s3``)."""

    scheme: Literal["file", "s3"]
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: Literal["path", "virtual", "auto"] | None = None


_S3_OPTIONS = {"endpoint_url", "region", "addressing_style"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_STORAGE_URL_FORMS = "file:///absolute/path or s3://bucket/prefix?endpoint_url=https://host&region=name"


def parse_storage_url(url: str) -> StorageLocation:
    """``file:///path`` or ``s3://bucket[/prefix][?endpoint_url=...&region=...&addressing_style=path]``; never
    credentials (the standard AWS variables or the instance role give them)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.query:
            raise ValueError(f"expected {_STORAGE_URL_FORMS}")
        return StorageLocation(scheme="file", path=Path(unquote(parts.path)))
    if parts.scheme != "s3":
        raise ValueError(f"expected {_STORAGE_URL_FORMS}")
    if "@" in parts.netloc:
        raise ValueError("no credentials in the storage URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if not _BUCKET.match(parts.netloc):
        raise ValueError(f"expected a bucket name (3-63 of a-z 0-9 . -) in {_STORAGE_URL_FORMS}")
    prefix = unquote(parts.path).strip("/")
    if prefix and (".." in prefix.split("/") or "//" in prefix):
        raise ValueError("expected a key prefix without empty or .. segments")
    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)):
        if name not in _S3_OPTIONS or name in options:
            raise ValueError(f"unknown or repeated option {name!r}: expected {', '.join(sorted(_S3_OPTIONS))}")
        options[name] = value
    endpoint = options.get("endpoint_url") or None
    if endpoint is not None:
        ep = urlsplit(endpoint)
        if ep.scheme not in ("http", "https") or not ep.hostname or ep.username or ep.password:
            raise ValueError("expected endpoint_url as an origin such as https://s3.example.com")
    style = options.get("addressing_style") or None
    if style not in (None, "path", "virtual", "auto"):
        raise ValueError("expected addressing_style path, virtual or auto")
    return StorageLocation(
        scheme="s3",
        bucket=parts.netloc,
        prefix=prefix,
        endpoint_url=endpoint,
        region=options.get("region") or None,
        addressing_style=style,  # type: ignore[arg-type]
    )


def _parse_delays(text: str) -> list[float]:
    delays = [float(x) for x in text.split(",") if x.strip()]
    if any(d < 0 or d != d or d == float("inf") for d in delays):
        raise ValueError("delays are finite, non-negative seconds")
    return delays


@functools.cache
def _secret_from_file(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by a process starting beside this one
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def settings_help() -> list[tuple[str, str, str]]:
    """(variable, default, description) for each setting, for --help and the README."""
    rows = []
    for name, info in Settings.model_fields.items():
        default = info.default
        rows.append((f"PARAPH_{name.upper()}", "" if default is None else str(default), info.description or ""))
    return rows
