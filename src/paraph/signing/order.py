"""Who may sign now: signing order and grouped signers, decided on the server.

With a signing order (any signer has ``order``), a signer may act only once every signer placed before
them has signed. Grouped signers share a ``signer_index``: one member signing signs for the group.
"""

from __future__ import annotations

from paraph.models import SignatureRequest, Signer
from paraph.models.signature_request import SignerStatus


def _rank(signer: Signer) -> int:
    return signer.order if signer.order is not None else signer.position


def group_done(sr: SignatureRequest, signer_index: int) -> bool:
    return any(s.signer_index == signer_index and s.status_code == SignerStatus.SIGNED for s in sr.signers)


def waiting_on(sr: SignatureRequest, signer: Signer) -> list[Signer]:
    """The signers who must sign before ``signer`` may (empty: ``signer`` may sign now)."""
    if not sr.has_signing_order:
        return []
    mine = _rank(signer)
    return [
        s
        for s in sr.signers
        if _rank(s) < mine and s.signer_index != signer.signer_index and not group_done(sr, s.signer_index)
    ]


def may_sign_now(sr: SignatureRequest, signer: Signer) -> bool:
    return (
        signer.status_code == SignerStatus.AWAITING_SIGNATURE
        and not group_done(sr, signer.signer_index)
        and not waiting_on(sr, signer)
    )


def signable_now(sr: SignatureRequest) -> list[Signer]:
    """Signers to invite now: awaiting, their turn, their group not yet signed."""
    return [s for s in sr.signers if may_sign_now(sr, s)]


def all_signed(sr: SignatureRequest) -> bool:
    return all(group_done(sr, index) for index in {s.signer_index for s in sr.signers})
