"""The dashboard's pure parts: numbers, verification, escaping, mail filtering, throttling, cookies."""

from __future__ import annotations

import datetime as dt
import json
import time
from email.message import EmailMessage
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from paraph.callbacks.webhook_signature import (
    encode_callback_body,
    event_hash,
    new_webhook_secret,
    standard_webhook_headers,
)
from paraph.security import KeyBox
from paraph.web import sessions, stats
from paraph.web.core import fmt_ago, linkify, safe_back
from paraph.web.outbox import list_mails, load_mail
from paraph.web.snippet import first_request_snippet
from paraph.web.verify import check_event_hash, check_standard_webhook
from paraph.web.views import EndpointView

NOW = dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.UTC)


def test_it_computes_nearest_rank_percentiles() -> None:
    assert stats.percentile([], 50) is None
    assert stats.percentile([7], 99) == 7
    values = list(range(1, 101))
    assert stats.percentile(values, 50) == 50
    assert stats.percentile(values, 99) == 99
    assert stats.percentile([5, 1, 100, 3], 50) == 3


def test_it_buckets_the_last_24_hours_of_attempts() -> None:
    attempts = [
        (NOW - dt.timedelta(minutes=5), 100, True),
        (NOW - dt.timedelta(minutes=10), 300, False),
        (NOW - dt.timedelta(hours=3), 50, True),
        (NOW - dt.timedelta(hours=30), 9999, False),  # outside the window
    ]
    h = stats.health(attempts, NOW)
    assert (h.total, h.ok, h.success_rate) == (3, 2, 2 / 3)
    assert (h.p50, h.p99) == (100, 300)
    assert len(h.buckets) == 24
    assert h.buckets[-1].start == NOW.replace(minute=0)
    assert (h.buckets[-1].total, h.buckets[-1].failed) == (2, 1)
    assert h.buckets[-4].total == 1
    bars = h.bars()
    assert bars[-1].fail_h > 0 and bars[-1].ok_h > 0 and bars[0].ok_h == 0
    assert len(h.latency_marks()) == 2
    assert stats.health([], NOW).success_rate is None


def test_it_rounds_axis_tops() -> None:
    assert [stats.nice_ceiling(v) for v in (0, 1, 3, 7, 12, 230, 1000)] == [0, 1, 5, 10, 20, 500, 1000]


def test_it_verifies_event_hash_with_the_api_key() -> None:
    key = "a" * 64
    payload = {"event": {"event_time": "1700000000", "event_type": "callback_test"}}
    payload["event"]["event_hash"] = event_hash(key, "1700000000", "callback_test")
    assert check_event_hash(payload, key, "k").status == "verified"
    assert check_event_hash(payload, "b" * 64, "k").status == "failed"
    assert check_event_hash({"event": {}}, key, "k").status == "absent"
    assert check_event_hash(None, key, "k").status == "absent"


def test_it_verifies_standard_webhook_signatures_like_the_reference_library() -> None:
    secret, other = new_webhook_secret(), new_webhook_secret()
    body, _ctype = encode_callback_body({"event": {"event_type": "callback_test"}})
    stamp = int(time.time())
    at = dt.datetime.fromtimestamp(stamp, dt.UTC)
    headers = standard_webhook_headers(secret, "evt_1", stamp, body)
    # The reference implementation signs the same thing (its verify() also parses JSON; the body is multipart).
    assert Webhook(secret).sign("evt_1", at, body.decode()) == headers["webhook-signature"]
    pairs = [[k, v] for k, v in headers.items()]

    def check(
        body: bytes = body, *, received: dt.datetime = at, truncated: bool = False, hdrs: list[list[str]] = pairs
    ) -> str:
        return check_standard_webhook(
            hdrs, body, truncated=truncated, secrets=[("x", other), ("app", secret)], received_at=received
        ).status

    ok = check_standard_webhook(pairs, body, truncated=False, secrets=[("x", other), ("app", secret)], received_at=at)
    assert ok.status == "verified" and "app" in ok.detail
    assert check(body + b" ") == "failed"
    assert check(received=at + dt.timedelta(minutes=6)) == "failed"
    assert check(received=at - dt.timedelta(minutes=4)) == "verified"
    assert check(truncated=True) == "failed"
    assert check(hdrs=[]) == "absent"
    assert check_standard_webhook(pairs, body, truncated=False, secrets=[("x", other)], received_at=at).status == (
        "failed"
    )


def test_it_escapes_text_and_links_only_web_urls() -> None:
    html = str(linkify('See <b>https://x.test/a?b=1&c="2"</b>. And javascript:alert(1) https://y.test/p).'))
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert '<a href="https://x.test/a?b=1&amp;c=&#34;2&#34;&lt;/b&gt;"' not in html  # the tag is not in the URL
    assert 'href="https://x.test/a?b=1&amp;c=&#34;2&#34;"' in html or 'href="https://x.test/a?b=1&amp;c="' in html
    assert 'href="https://y.test/p"' in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html


def test_it_only_sends_back_to_dashboard_pages() -> None:
    assert safe_back("/dashboard/inspector/my-hook", "/d") == "/dashboard/inspector/my-hook"
    for bad in ("//evil.test", "https://evil.test/dashboard", "/dashboard/../login", "/dashboard?x=1", None, ""):
        assert safe_back(bad, "/dashboard/account") == "/dashboard/account"


def test_it_says_how_long_ago() -> None:
    assert fmt_ago(NOW - dt.timedelta(seconds=3), NOW) == "just now"
    assert fmt_ago(NOW - dt.timedelta(minutes=5), NOW) == "5 min ago"
    assert fmt_ago(NOW + dt.timedelta(hours=3), NOW) == "in 3 h"
    assert fmt_ago(None, NOW) == ""


def _eml(directory: Path, name: str, to: str, header_account: str | None = None, cc: str | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = "noreply@paraph.local"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if header_account:
        msg["X-Paraph-Account"] = header_account
    msg["Subject"] = name
    msg.set_content("body of " + name)
    (directory / f"{name}.eml").write_bytes(bytes(msg))


def test_it_lists_only_the_accounts_mail_newest_first(tmp_path: Path) -> None:
    _eml(tmp_path, "1000-aaaa", "Me <me@example.com>")
    _eml(tmp_path, "3000-bbbb", "other@example.com", header_account="acc1")
    _eml(tmp_path, "2000-cccc", "other@example.com")
    _eml(tmp_path, "4000-dddd", "x@example.com", cc="ME@example.com")
    _eml(tmp_path, "5000-eeee", "notme@example.com.evil")
    (tmp_path / "junk.eml").write_text("not a mail name")
    listed = [m.mail_id for m in list_mails(tmp_path, "me@example.com", "acc1")]
    assert listed == ["4000-dddd", "3000-bbbb", "1000-aaaa"]
    assert load_mail(tmp_path, "2000-cccc", "me@example.com", "acc1") is None
    assert load_mail(tmp_path, "../2000-cccc", "me@example.com", "acc1") is None
    view = load_mail(tmp_path, "1000-aaaa", "me@example.com", "acc1")
    assert view is not None and view.text is not None and "body of 1000-aaaa" in view.text
    assert list_mails(tmp_path / "missing", "me@example.com", "acc1") == []


def test_it_throttles_after_five_failures_in_fifteen_minutes() -> None:
    t = sessions.LoginThrottle()
    key = t.key(" Dev@Example.com ", "10.0.0.1")
    assert key == ("dev@example.com", "10.0.0.1")
    for i in range(4):
        t.failed(key, now=1000.0 + i)
    assert t.retry_after(key, now=1010.0) == 0
    t.failed(key, now=1010.0)
    assert t.retry_after(key, now=1011.0) > 0
    assert t.retry_after(t.key("dev@example.com", "10.0.0.2"), now=1011.0) == 0  # another IP
    assert t.retry_after(key, now=1000.0 + 15 * 60 + 1) == 0  # the oldest failure aged out
    t.succeeded(key)
    assert t.retry_after(key, now=1011.0) == 0


def test_it_throttles_an_address_across_emails_and_keeps_throttled_keys_when_full() -> None:
    t = sessions.LoginThrottle(limit=3, ip_limit=5, max_keys=10)
    for i in range(5):
        t.failed(t.key(f"u{i}@example.com", "10.0.0.9"), now=1000.0)
    wait = t.wait(t.key("someone-else@example.com", "10.0.0.9"), now=1001.0)
    assert wait is not None and wait.per_address and wait.seconds > 0
    assert t.wait(t.key("u0@example.com", "10.0.0.8"), now=1001.0) is None  # another address
    t.succeeded(t.key("u0@example.com", "10.0.0.9"))  # a success does not reset the address's count
    assert t.retry_after(t.key("x@example.com", "10.0.0.9"), now=1001.0) > 0
    assert t.wait(t.key("x@example.com", "10.0.0.9"), now=1000.0 + 15 * 60 + 1) is None  # aged out

    victim = t.key("victim@example.com", "10.0.0.1")
    for i in range(3):
        t.failed(victim, now=2000.0 + i)
    for i in range(1000):  # distinct one-off failures, each from its own address
        t.failed(t.key(f"f{i}@example.com", f"10.1.{i // 250}.{i % 250}"), now=2010.0 + i / 10)
    assert len(t) <= 20
    wait = t.wait(victim, now=2200.0)
    assert wait is not None and not wait.per_address


def test_it_refuses_forged_session_cookies_and_csrf_tokens() -> None:
    keys, other = KeyBox("one"), KeyBox("two")
    token = sessions.new_session_token(keys)
    cookie = token.cookie_value(keys)
    assert sessions.parse_session_cookie(keys, cookie) == token
    for bad in (None, "", "abc", token.token + ".", token.cookie_value(other), cookie + "x", "a.b.c"):
        assert sessions.parse_session_cookie(keys, bad) is None
    csrf = sessions.csrf_token(keys, token.lookup)
    assert sessions.check_csrf(keys, token.lookup, csrf)
    assert not sessions.check_csrf(keys, "another-session", csrf)
    assert not sessions.check_csrf(keys, token.lookup, None)
    assert not sessions.check_csrf(keys, token.lookup, csrf, login=True)


def test_it_builds_a_runnable_first_request_snippet() -> None:
    text = first_request_snippet("https://sign.example.com/", None, None)
    compile(text, "first_request.py", "exec")
    assert 'host="https://sign.example.com/v3"' in text
    assert 'username="YOUR_API_KEY"' in text and 'client_id="YOUR_CLIENT_ID"' in text
    assert "test_mode=True" in text and "signature_request_create_embedded" in text
    tricky = first_request_snippet('https://x.test/"); import os #', "k" * 64, "c" * 32)
    compile(tricky, "first_request.py", "exec")
    assert json.dumps('https://x.test/"); import os #/v3') in tricky


def test_it_orders_disabled_then_failing_endpoints_first() -> None:
    def ep(target: str, url: str | None, enabled: bool, failures: int) -> EndpointView:
        return EndpointView(target, target, url, "whsec_x", enabled, None, failures)

    eps = [ep("ok", "u", True, 0), ep("none", None, True, 0), ep("off", "u", False, 5), ep("bad", "u", True, 2)]
    assert [e.target for e in sorted(eps, key=lambda e: e.sort_key)] == ["off", "bad", "ok", "none"]
    assert [e.status for e in eps] == ["healthy", "no_url", "disabled", "failing"]
