"""What signing adds to a signature request: adopted signature images, the final document, mail notices.

Entered values themselves live on ``RequestField.value`` (the API serializes ``response_data`` from them);
these tables hold what does not fit there.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from paraph.db import Base, UTCDateTime, utcnow


class SignatureImage(Base):
    """The image stamped into one signature or initials field: drawn, typed (rendered) or uploaded, always
    a bounded PNG in storage. Several fields of one signer point at the same stored image."""

    __tablename__ = "signing_images"
    __table_args__ = (sa.UniqueConstraint("signature_request_id", "api_id", name="uq_signing_images_field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("signature_requests.id", ondelete="CASCADE"), index=True
    )
    api_id: Mapped[str] = mapped_column(sa.String(255))
    signature_id: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(16))  # signature | initials
    method: Mapped[str] = mapped_column(sa.String(16))  # draw | type | upload
    storage_key: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FinalDocument(Base):
    """The sealed final PDF of a completed request (stamped pages, audit trail, seal)."""

    __tablename__ = "signing_final_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("signature_requests.id", ondelete="CASCADE"), unique=True
    )
    storage_key: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SigningNotice(Base):
    """A one-off announcement already queued for a request (``expired``), so a sweep queues it once."""

    __tablename__ = "signing_notices"
    __table_args__ = (sa.UniqueConstraint("signature_request_id", "kind", name="uq_signing_notices_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_request_id: Mapped[int] = mapped_column(sa.ForeignKey("signature_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SealKey(Base):
    """The self-signed seal of the deployment (its private key and certificate, PEM, encrypted with the KeyBox),
    made once by the first process that seals a document: every API node and worker shares the database, so
    every final document carries the same certificate whichever worker sealed it (signing/seal_key.py).
    Unused when PARAPH_SEAL_PKCS12 is set."""

    __tablename__ = "seal_keys"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    pem_encrypted: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
