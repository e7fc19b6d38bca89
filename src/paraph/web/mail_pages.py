"""The local mail outbox pages (/dashboard/mail)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call
from paraph.web.outbox import MAIL_ID, MailView, list_mails, load_mail, mail_dir

router = APIRouter(route_class=PageRoute)

#: The HTML part is shown in a sandboxed frame: no scripts, no same-origin access, no remote loads.
MAIL_FRAME_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src data:; "
    "style-src 'unsafe-inline'; font-src data:; frame-ancestors 'self'"
)


@router.get("/dashboard/mail")
async def mail_list(request: Request) -> Response:
    def run(ctx: PageContext) -> Response:
        directory = mail_dir(ctx.runtime.settings.data_dir)
        mails = list_mails(directory, ctx.account.email_address, ctx.account.account_id)
        return ctx.render(
            "mail_list.html",
            {"mails": mails, "smtp": bool(ctx.runtime.settings.smtp_url), "directory": str(directory)},
            nav="mail",
        )

    return await page_call(request, run)


def _load(ctx: PageContext, mail_id: str) -> MailView:
    found = load_mail(
        mail_dir(ctx.runtime.settings.data_dir), mail_id, ctx.account.email_address, ctx.account.account_id
    )
    if found is None:
        raise PageNotFound()
    return found


@router.get("/dashboard/mail/{mail_id}")
async def mail_view(request: Request, mail_id: str) -> Response:
    if not MAIL_ID.match(mail_id):
        raise PageNotFound()
    return await page_call(request, lambda ctx: ctx.render("mail_view.html", {"mail": _load(ctx, mail_id)}, nav="mail"))


@router.get("/dashboard/mail/{mail_id}/html")
async def mail_html(request: Request, mail_id: str) -> Response:
    """The HTML part, verbatim, for the sandboxed iframe of the mail page."""
    if not MAIL_ID.match(mail_id):
        raise PageNotFound()

    def run(ctx: PageContext) -> Response:
        mail = _load(ctx, mail_id)
        if mail.html is None:
            raise PageNotFound()
        response = HTMLResponse('<base target="_blank">' + mail.html)
        response.headers["content-security-policy"] = MAIL_FRAME_CSP
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    return await page_call(request, run)
