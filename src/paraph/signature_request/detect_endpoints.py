"""/v3/document/detect_fields: the text-tag parser of signature requests run on one document
(:mod:`paraph.signature_request.detect`), registered beside the signature request routers."""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.errors import BadRequest
from paraph.outbound.fetch import FetchError, FetchPolicy, check_file_url, fetch
from paraph.outbound.guard import UrlRefused
from paraph.request_scope import ApiContext, api_call, runtime
from paraph.signature_request import detect
from paraph.signature_request.schemas import DocumentDetectFieldsRequest
from paraph.wire.decode import read_body
from paraph.wire.parse import parse
from paraph.wire.responses import ok

router = APIRouter(prefix="/v3")


def _account_lane(ctx: ApiContext) -> str:
    """The caller's account, as the PDF pool's lane (its turns are shared fairly between accounts)."""
    return str(ctx.account.id)


@router.post("/document/detect_fields")
async def document_detect_fields(request: Request) -> Response:
    rt = runtime(request)
    settings = rt.settings
    body = await read_body(request, max_file_size=settings.max_file_bytes, max_files=1)
    req = parse(DocumentDetectFieldsRequest, body.data)
    detect.one_based(req.page_range)  # a bad range is refused before any work
    if req.detection_mode != "text_tags":
        raise BadRequest("detection_mode: Paraph detects text_tags only", error_path="detection_mode")
    uploads = body.files.get("files", [])
    urls = req.file_urls or []
    if uploads and urls:
        raise BadRequest("Send file or file_url, not both.", error_path="file_url")
    if len(uploads) + len(urls) != 1:
        raise BadRequest("file: Upload one file or give one file_url.", error_path="file")
    # Authenticate before the server fetches or parses anything on the caller's behalf.
    lane = await api_call(request, _account_lane, write=False)
    if uploads:
        data = uploads[0].data
    else:
        policy = FetchPolicy(
            allow_private=settings.callback_allow_private,
            resolver=rt.resolver,
            max_bytes=settings.max_file_bytes,
            timeout=settings.callback_timeout,
        )
        try:
            data = await fetch(check_file_url(urls[0], allow_private=policy.allow_private), policy)
        except UrlRefused as exc:
            raise BadRequest(f"file_url: {exc.message}", error_path="file_url") from None
        except FetchError as exc:
            raise BadRequest(f"file_url: could not be downloaded: {exc.message}", error_path="file_url") from None
    result = await to_thread.run_sync(detect.detect, rt, data, req.page_range, lane)
    return ok({"detection_result": result})
