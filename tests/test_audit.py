"""Audit tags are exactly the expected set: their values are stored rows that the trail and the timeline read."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from paraph import audit
from paraph.audit import AuditTag

EXPECTED_TAGS = {
    "api:account:updated",
    "api:api_app:created",
    "api:api_app:deleted",
    "api:api_app:updated",
    "api:embedded:sign_url_created",
    "api:signature_request:cancel_requested",
    "api:signature_request:created",
    "api:signature_request:hold_released",
    "api:signature_request:reminded",
    "api:signature_request:removed",
    "api:signature_request:simulated",
    "api:signature_request:updated",
    "api:template:created",
    "api:template:deleted",
    "api:template:files_updated",
    "api:template:shared",
    "api:template:unshared",
    "api:template:updated",
    "cli:account:created",
    "cli:account:password_changed",
    "signer:signature_request:declined",
    "signer:signature_request:pin_failed",
    "signer:signature_request:pin_verified",
    "signer:signature_request:reassigned",
    "signer:signature_request:signed",
    "signer:signature_request:viewed",
    "system:mail:expired_notice",
    "system:mail:final_copy",
    "system:mail:remind",
    "system:mail:signer_invite",
    "system:signature_request:canceled",
    "system:signature_request:completed",
    "system:signature_request:expired",
    "system:signature_request:failed",
    "system:signature_request:finalized",
    "system:signature_request:sent",
    "system:template:created",
    "system:template:failed",
    "web:account:password_changed",
    "web:api_key:created",
    "web:api_key:made_primary",
    "web:api_key:revealed",
    "web:api_key:revoked",
    "web:session:created",
    "web:session:refused",
}


def test_it_records_exactly_the_expected_tags() -> None:
    assert {tag.value for tag in AuditTag} == EXPECTED_TAGS


def test_every_tag_reads_source_subject_action_and_its_name_says_so() -> None:
    for tag in AuditTag:
        source, subject, action = tag.value.split(":")
        assert source in {"api", "cli", "web", "signer", "system"}
        assert tag.name == f"{source}_{subject}_{action}".upper()


def test_it_refuses_a_tag_that_is_not_a_member() -> None:
    with pytest.raises(ValueError):
        audit.record(Session(), "api:signature_request:creatd")  # type: ignore[arg-type]
