"""What the signing page posts (JSON, from its own origin). The credential is not here: the token travels in
the ``X-Paraph-Token`` header, checked before the body is read (``paraph.signing.endpoints.read_action``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from paraph.wire.text import bad_text

MAX_IMAGE_DATA_URL = 8 * 1024 * 1024
MAX_REASON = 2000


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        found = bad_text(data)
        if found is not None:
            raise ValueError(f"{found[0]} {found[1]}")
        return data


class Adoption(BaseModel):
    """An adopted signature or initials: typed text (rendered by the server), or a drawn or uploaded image
    as a ``data:`` URL."""

    model_config = ConfigDict(extra="ignore")
    method: Literal["draw", "type", "upload"]
    text: str | None = Field(default=None, max_length=200)
    image: str | None = Field(default=None, max_length=MAX_IMAGE_DATA_URL)


class SubmitBody(_Body):
    values: dict[str, str | bool | int | float | None] = Field(default_factory=dict)
    signature: Adoption | None = None
    initials: Adoption | None = None


class PinBody(_Body):
    pin: str = Field(max_length=64)


class DeclineBody(_Body):
    reason: str = Field(max_length=MAX_REASON)


class ReassignBody(_Body):
    name: str = Field(max_length=255)
    email_address: str = Field(max_length=255)
    reason: str = Field(default="", max_length=MAX_REASON)
