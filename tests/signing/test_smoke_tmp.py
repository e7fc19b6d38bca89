from typing import Any
import pytest, shutil
from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.signing.helpers import *
from tests.signing.conftest import Host, screenshot


def test_smoke(server: Server, account: AccountInfo, receiver: Receiver, host: Host, browser_page: Any) -> None:
    set_callback(server, account, receiver)
    cid = new_app(server, account, ["localhost"])
    sr = create(server, account, client_id=cid, signers=[("Jack Doe", "jack@example.com")], fields=[
        f("sig1", "signature", 0, 72, 500, 200, 40),
        f("name", "text", 0, 72, 560),
        f("agree", "checkbox", 0, 72, 600, 14, 14),
    ])
    sid = sr["signatures"][0]["signature_id"]
    url = sign_url(server, account, sid)
    pg = browser_page
    pg.on("console", lambda m: print("CONSOLE", m.type, m.text))
    pg.goto(host.url)
    pg.evaluate("([u, c]) => window.openSign(u, c)", [url, cid])
    pg.wait_for_function("window.events.some(e => e.name === 'ready')")
    frame = pg.frame_locator("iframe.x-hellosign-embedded__iframe")
    frame.locator('[data-testid="field-name"]').fill("Jack")
    frame.locator('[data-testid="field-agree"]').check()
    frame.locator('[data-testid="field-sig1"]').click()
    frame.locator('[data-testid="signature-typed-input"]').fill("Jack Doe")
    screenshot(pg, "tmp-dialog")
    frame.locator('[data-testid="signature-adopt"]').click()
    screenshot(pg, "tmp-filled")
    frame.locator('[data-testid="sign-submit"]').click()
    pg.wait_for_function("window.events.some(e => e.name === 'sign')")
    frame.locator('[data-testid="done-close"]').click()
    pg.wait_for_function("window.events.some(e => e.name === 'finish')")
    print(pg.evaluate("window.events"))
