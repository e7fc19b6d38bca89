"""/paraph/v1/inspectors: the callback inspector names of the API key's account, and /paraph/v1/inspect/{name}:
what a name caught and its scripted answers, for tests (Paraph's extensions)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.account import repository as accounts
from paraph.callbacks import repository as callbacks
from paraph.errors import BadRequest, NotFound
from paraph.inspector import scripts, service
from paraph.inspector.schemas import serialize_capture, serialize_name
from paraph.request_scope import ApiContext, api_call
from paraph.web import verify
from paraph.wire.decode import read_body
from paraph.wire.responses import empty, ok

router = APIRouter()


@router.get("/inspectors")
async def inspectors_list(request: Request) -> Response:
    def run(ctx: ApiContext) -> Response:
        base = ctx.runtime.settings.base_url
        return ok({"inspectors": [serialize_name(row, base) for row in service.names(ctx.session, ctx.account)]})

    return await api_call(request, run)


@router.post("/inspectors")
async def inspectors_create(request: Request) -> Response:
    body = (await read_body(request, max_parts=10, max_fields_size=4096)).data
    name = body.get("name")
    name = name.strip() if isinstance(name, str) else ""

    def run(ctx: ApiContext) -> Response:
        row = service.create_name(ctx.session, ctx.account, name)
        return ok({"inspector": serialize_name(row, ctx.runtime.settings.base_url)}, status_code=201)

    return await api_call(request, run)


@router.delete("/inspectors/{name}")
async def inspectors_delete(request: Request, name: str) -> Response:
    await api_call(request, lambda ctx: service.delete_name(ctx.session, ctx.account, name))
    return empty(204)


# -- the inspector as a test fixture: what a name caught, and scripted failures ----------------------------

MAX_LISTED = 200


def _viewable(ctx: ApiContext, name: str) -> None:
    if not service.may_view(ctx.session, ctx.runtime.settings, ctx.account, name):
        raise NotFound("No inspector of yours has that name.")


@router.get("/inspect/{name}")
async def inspect_list(request: Request, name: str) -> Response:
    """What ``name`` caught, newest first, each with whether ``event_hash`` (the account's primary API key)
    and the Standard Webhooks signature (the account's endpoint secrets) verify."""
    q = request.query_params
    event_type = q.get("event_type") or None
    rid = q.get("signature_request_id") or None
    limit_text = q.get("limit") or "50"
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LISTED:
        raise BadRequest(f"limit: a whole number from 1 to {MAX_LISTED}", error_path="limit")
    limit = int(limit_text)
    table = scripts.table(request.app.state)

    def run(ctx: ApiContext) -> Response:
        _viewable(ctx, name)
        key_row = accounts.primary_key(ctx.session, ctx.account)
        api_key = ctx.runtime.keys.decrypt(key_row.encrypted_key) if key_row else None
        label = f"your primary API key …{key_row.suffix}" if key_row else "no key"
        endpoint_secrets = [
            (f"endpoint {ep_id}", secret) for ep_id, secret in callbacks.endpoint_secrets(ctx.session, ctx.account)
        ]
        out = []
        for row in service.captures(ctx.session, name, service.KEEP_PER_NAME):
            payload = verify.parse_event(row.json_text)
            checks = {
                "event_hash": verify.check_event_hash(payload, api_key, label),
                "signature": verify.check_standard_webhook(
                    row.headers,
                    row.body,
                    truncated=row.body_truncated,
                    secrets=endpoint_secrets,
                    received_at=row.received_at,
                ),
            }
            item = serialize_capture(
                row, payload, {k: {"status": c.status, "detail": c.detail} for k, c in checks.items()}
            )
            if event_type is not None and item["event_type"] != event_type:
                continue
            if rid is not None and item["signature_request_id"] != rid:
                continue
            out.append(item)
            if len(out) >= limit:
                break
        script = table.peek(name)
        return ok({"captures": out, "script": script.as_json() if script else None})

    return await api_call(request, run)


@router.post("/inspect/{name}/script")
async def inspect_script(request: Request, name: str) -> Response:
    """Answer the next requests caught at ``name`` as told: ``{"status": 500, "times": 3}``, ``{"body":
    "wrong"}``, ``{"delay_ms": 40000}`` (together too; ``times`` defaults to 1; ``{"times": 0}`` clears)."""
    body = (await read_body(request, max_parts=10, max_fields_size=16 * 1024)).data
    script = scripts.parse(body)

    def run(ctx: ApiContext) -> Response:
        _viewable(ctx, name)
        scripts.table(request.app.state).set(name, script)
        return ok({"script": script.as_json() if script else None})

    return await api_call(request, run)
