"""Routers of the features beyond the foundation; each feature adds its router here."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    routers: list[APIRouter] = []
    from paraph.web.router import dashboard_router, inspect_router  # dashboard pages + callback inspector

    routers += [inspect_router, dashboard_router]
    # Signature requests; literal paths (/signature_request/list) come before /{id} within the router.
    from paraph.embedded.endpoints import router as embedded_router
    from paraph.signature_request.detect_endpoints import router as document_router
    from paraph.signature_request.endpoints import public_router as signature_request_files_router
    from paraph.signature_request.endpoints import router as signature_request_router

    routers += [signature_request_router, signature_request_files_router, embedded_router, document_router]
    # Templates, and the sends from templates (/v3/signature_request/send_with_template, ...).
    from paraph.template.endpoints import public_router as template_files_router
    from paraph.template.endpoints import router as template_router

    routers += [template_router, template_files_router]
    # Signing pages (embedded and mailed), final copies, and the mail and final-document jobs.
    from paraph.signing.endpoints import router as signing_router

    routers += [signing_router]
    return routers
