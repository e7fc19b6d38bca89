"""What the pages opened in an integrator's iFrame (the signing page, the editor) share: their page data as
JSON inside HTML, and their security headers."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup


def json_for_html(data: dict[str, Any]) -> Markup:
    """``data`` as JSON safe inside a ``<script type="application/json">``: every HTML-significant character
    escaped, so no value can close the element."""
    text = json.dumps(data, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - JSON with every HTML-significant character escaped


def headers(ancestors: str, *, img_src: str = "'self' data:") -> dict[str, str]:
    """A framed page's headers: a CSP that allows only its own scripts, styles and requests and lets only
    ``ancestors`` (the API app's domains, or ``'none'``) frame it; no referrer, no caching, no sniffing."""
    csp = (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {img_src}; "
        f"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
    return {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
