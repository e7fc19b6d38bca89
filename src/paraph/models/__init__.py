"""ORM models, one module per aggregate. Importing this package registers every table on ``Base.metadata``."""

from paraph.models.account import Account, ApiKey
from paraph.models.api_app import ApiApp
from paraph.models.audit import AuditEvent
from paraph.models.bulk_send import BulkSendJob
from paraph.models.callback import CallbackAttempt, CallbackDelivery, CallbackEndpoint, CallbackEvent
from paraph.models.dashboard import DashboardSession
from paraph.models.editor import EditorToken, UnclaimedDraft
from paraph.models.inspector import InspectedRequest, InspectorName
from paraph.models.job import Job
from paraph.models.signature_request import (
    Document,
    RequestField,
    SignatureRequest,
    Signer,
    SignUrlToken,
)
from paraph.models.signing import FinalDocument, SealKey, SignatureImage, SigningNotice
from paraph.models.template import (
    Template,
    TemplateCcRole,
    TemplateDocument,
    TemplateField,
    TemplateMergeField,
    TemplateShare,
    TemplateSignerRole,
)

__all__ = [
    "Account",
    "ApiApp",
    "ApiKey",
    "AuditEvent",
    "BulkSendJob",
    "CallbackAttempt",
    "CallbackDelivery",
    "CallbackEndpoint",
    "CallbackEvent",
    "DashboardSession",
    "Document",
    "EditorToken",
    "FinalDocument",
    "InspectedRequest",
    "InspectorName",
    "Job",
    "RequestField",
    "SealKey",
    "SignUrlToken",
    "SignatureImage",
    "SignatureRequest",
    "Signer",
    "SigningNotice",
    "Template",
    "TemplateCcRole",
    "TemplateDocument",
    "TemplateField",
    "TemplateMergeField",
    "TemplateShare",
    "TemplateSignerRole",
    "UnclaimedDraft",
]
