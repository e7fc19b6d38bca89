"""Bulk sends through the official SDK, on SQLite and PostgreSQL: a job from a signer_list and one from a CSV
signer_file (embedded), each row becoming a request sent as send_with_template sends one (its callback, its
signer's mail or its sign URL), the job's reads, and bad input refused before anything is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dropbox_sign
import pytest
import sqlalchemy as sa
from dropbox_sign import models
from playwright.sync_api import Page, expect

from paraph.models import BulkSendJob, SignatureRequest
from tests.bulk_send.helpers import (
    bulk_api,
    bulk_embedded,
    bulk_send,
    csv_file,
    error_of,
    raw_file,
    row,
    sent_events,
    signer,
    sr_api,
)
from tests.client import wait_until
from tests.conftest import AccountInfo, Inbox, Server
from tests.factories import make_account
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, new_app
from tests.signing.helpers import page as open_page
from tests.signing.helpers import sign_url
from tests.template.helpers import ready_template
from tests.web.conftest import sign_in
from tests.web.helpers import Client

MAX_ROWS = 4
CCS = [models.SubCC(role="Lawyer", email_address="lawyer@example.com")]
MERGE = [models.SubMergeField(name="Price", type="text"), models.SubMergeField(name="Rush", type="checkbox")]


@pytest.fixture
def settings_overrides(inbox: Inbox) -> dict[str, Any]:
    return {"smtp_url": f"smtp://{inbox.host}:{inbox.port}", "bulk_send_max_rows": MAX_ROWS}


def other_sdk(server: Server, other: AccountInfo) -> Any:
    cfg = dropbox_sign.Configuration(host=server.api, username=other.api_key)
    cfg.proxy = None
    return dropbox_sign.ApiClient(cfg)


def counts(server: Server) -> tuple[int, int]:
    with server.runtime.unit_of_work(write=False) as session:
        jobs = session.scalar(sa.select(sa.func.count()).select_from(BulkSendJob)) or 0
        made = session.scalar(sa.select(sa.func.count()).select_from(SignatureRequest)) or 0
        return jobs, made


@pytest.mark.browser
def test_it_sends_in_bulk_from_a_list_and_from_a_csv_file_after_refusing_bad_input(
    server: Server,
    sdk: Any,
    account: AccountInfo,
    receiver: Receiver,
    inbox: Inbox,
    page: Page,
    shoot: Callable[[Page, str], None],
) -> None:
    listen(sdk, receiver)
    tid = ready_template(sdk, receiver, merge_fields=MERGE, cc_roles=["Lawyer"], subject="NDA to sign")
    refuse_bad_input(server, sdk, tid)
    rows = [
        row(
            [signer("Client", f"Client {i}", f"client{i}@example.com"), signer("Manager", "Max", "max@example.com")],
            Price=f"${i}00",
        )
        for i in range(3)
    ]
    job = bulk_send(
        sdk,
        [tid],
        signer_list=rows,
        ccs=CCS,
        custom_fields=[models.SubCustomField(name="Price", value="$0"), models.SubCustomField(name="Rush", value="1")],
        metadata={"batch": "march"},
        message="Please sign",
    )
    assert job.total == 3 and job.is_creator is True and len(job.bulk_send_job_id) == 40

    # Every row is sent as a send_with_template is: its callback, the first signer's mail.
    got = wait_until(lambda: (e := sent_events(receiver, job.bulk_send_job_id)) and len(e) == 3 and e, timeout=60)
    by_client = {sr["signatures"][0]["signer_email_address"]: sr for sr in got.values()}
    assert sorted(by_client) == ["client0@example.com", "client1@example.com", "client2@example.com"]
    for i in range(3):
        sr = by_client[f"client{i}@example.com"]
        assert {c["name"]: c["value"] for c in sr["custom_fields"]} == {"Price": f"${i}00", "Rush": True}
        assert sr["metadata"] == {"batch": "march"} and sr["cc_email_addresses"] == ["lawyer@example.com"]
        assert sr["template_ids"] == [tid] and sr["message"] == "Please sign"
    wait_until(lambda: all(inbox.to(f"client{i}@example.com") for i in range(3)), timeout=30)

    # The job's reads: its requests (paged), and the list of jobs.
    read = bulk_api(sdk).bulk_send_job_get(job.bulk_send_job_id, page=1, page_size=2)
    assert read.bulk_send_job.total == 3 and read.list_info.num_results == 3 and read.list_info.num_pages == 2
    assert len(read.signature_requests) == 2
    assert all(sr.bulk_send_job_id == job.bulk_send_job_id for sr in read.signature_requests)
    one = sr_api(sdk).signature_request_get(read.signature_requests[0].signature_request_id).signature_request
    assert one.bulk_send_job_id == job.bulk_send_job_id

    # Embedded, from Dropbox Sign's CSV: a column per role field and per merge field (<name>_field).
    client_id = new_app(sdk)
    csv = (
        "Client_name, Client_email_address, Client_pin, Manager_name, Manager_email_address, Price_field\n"
        "Ann, ann@example.com, 1234abcd, Max, max@example.com, $5\n"
        "\n"
        'Bob, bob@example.com, , "Max, Jr.", max@example.com, $6\n'
    )
    embedded = bulk_embedded(
        sdk,
        [tid],
        client_id,
        signer_file=csv_file(csv),
        ccs=CCS,
    )
    assert embedded.total == 2
    got = wait_until(lambda: (e := sent_events(receiver, embedded.bulk_send_job_id)) and len(e) == 2 and e)
    by_client = {sr["signatures"][0]["signer_name"]: sr for sr in got.values()}
    assert sorted(by_client) == ["Ann", "Bob"]
    assert (
        by_client["Ann"]["signatures"][0]["has_pin"] is True and by_client["Bob"]["signatures"][0]["has_pin"] is False
    )
    assert by_client["Bob"]["signatures"][1]["signer_name"] == "Max, Jr."
    assert {c["name"]: c["value"] for c in by_client["Bob"]["custom_fields"]}["Price"] == "$6"
    url = sign_url(server, account, by_client["Bob"]["signatures"][0]["signature_id"])
    opened = open_page(server, url, client_id=client_id, parent_url="http://example.com/", skip_domain_verification="1")
    assert opened.status == 200
    assert not inbox.to("bob@example.com")  # embedded requests are not mailed

    listed = bulk_api(sdk).bulk_send_job_list()
    assert [j.bulk_send_job_id for j in listed.bulk_send_jobs] == [
        embedded.bulk_send_job_id,
        job.bulk_send_job_id,
    ]
    assert listed.list_info.num_results == 2

    # The dashboard: the jobs with their progress, and a job's requests with their state.
    sign_in(page, server.url, account)
    page.goto(server.url + "/dashboard/bulk-sends")
    expect(page.get_by_test_id("bulk-job-row")).to_have_count(2)
    expect(page.get_by_test_id("bulk-job-row").first).to_contain_text("2 / 2")
    shoot(page, "bulk-sends")
    page.locator(f'a[href="/dashboard/bulk-sends/{job.bulk_send_job_id}"]').click()
    expect(page.get_by_test_id("bulk-job-progress")).to_contain_text("3 of 3 requests made")
    expect(page.get_by_test_id("bulk-job-progress")).to_contain_text("done")
    expect(page.get_by_test_id("bulk-job-request")).to_have_count(3)
    expect(page.get_by_test_id("bulk-job-requests")).to_contain_text("client1@example.com")
    expect(page.get_by_test_id("bulk-job-requests").locator(".badge-sr-awaiting_signature")).to_have_count(3)
    shoot(page, "bulk-send")
    other = make_account(server.runtime, "other@example.com")
    client = Client(server.url)
    client.sign_in(other)
    assert client.get(f"/dashboard/bulk-sends/{job.bulk_send_job_id}").status == 404
    with pytest.raises(dropbox_sign.ApiException) as exc:  # nor through the API
        bulk_api(other_sdk(server, other)).bulk_send_job_get(job.bulk_send_job_id)
    assert error_of(exc)[:2] == (404, "not_found")


HEADER = "Client_name,Client_email_address,Manager_name,Manager_email_address"
GOOD = "Ann,ann@example.com,Max,max@example.com"
BAD_CSV: list[tuple[str, bytes, str]] = [
    (
        "missing column",
        b"Client_name,Client_email_address,Manager_name\nAnn,ann@example.com,Max\n",
        "row 1: the column 'Manager_email_address' is missing",
    ),
    ("empty email", f"{HEADER}\n{GOOD}\nBob,,Max,max@example.com\n".encode(), "row 3, column 'Client_email_address'"),
    (
        "malformed email",
        f"{HEADER}\n{GOOD}\n{GOOD}\nBob,bob@,Max,max@example.com\n".encode(),
        "row 4, column 'Client_email_address': Invalid email address",
    ),
    ("empty name", f"{HEADER}\n,bob@example.com,Max,max@example.com\n".encode(), "row 2, column 'Client_name'"),
    (
        "unknown role",
        b"Buyer_name,Buyer_email_address\nAnn,ann@example.com\n",
        "row 1, column 'Buyer_name': the template(s) have no signer role 'Buyer'",
    ),
    (
        "unknown custom field",
        f"{HEADER},Colour_field\n{GOOD},red\n".encode(),
        "row 1, column 'Colour_field': no merge field of the template(s) is named 'Colour'",
    ),
    ("unknown column", f"{HEADER},notes\n{GOOD},hi\n".encode(), "row 1, column 'notes': unknown column"),
    (
        "role-less name with two roles",
        b"name,email_address\nAnn,ann@example.com\n",
        "row 1, column 'name': the template(s) have several signer roles",
    ),
    ("cell count", f"{HEADER}\n{GOOD}\nBob,bob@example.com,Max\n".encode(), "row 3: 3 cells, where the header has 4"),
    (
        "too many rows",
        (HEADER + "\n" + f"{GOOD}\n" * (MAX_ROWS + 1)).encode(),
        f"row {MAX_ROWS + 2}: more than {MAX_ROWS} signature requests",
    ),
    ("header only", f"{HEADER}\n".encode(), "no signature request"),
    ("empty file", b"", "the file is empty"),
    ("a PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not a CSV file"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
    (
        "not UTF-8",
        f"{HEADER}\n".encode() + "Zoë,zoe@example.com,Max,max@example.com\n".encode("latin-1"),
        "not a CSV file (it is not UTF-8 text)",
    ),
    ("bad quoting", f'{HEADER}\n"Ann,ann@example.com,Max,max@example.com\n'.encode(), "not valid CSV"),
]


def refuse_bad_input(server: Server, sdk: Any, tid: str) -> None:
    """Every bad CSV and signer_list is a 400 naming the row and column, and nothing is stored."""
    before = counts(server)
    for label, data, message in BAD_CSV:
        with pytest.raises(dropbox_sign.ApiException) as exc:
            bulk_send(sdk, [tid], ccs=CCS, signer_file=raw_file(data))
        status, name, msg, path = error_of(exc)
        assert (status, name, path) == (400, "bad_request", "signer_file"), label
        assert msg.startswith("signer_file") and message in msg, (label, msg)

    jack, max_ = signer("Client", "Jack", "jack@example.com"), signer("Manager", "Max", "max@example.com")
    bad_lists: list[tuple[list[Any], dict[str, Any], str, str]] = [
        (
            [row([jack, max_]), row([jack, signer("Manager", "Max", "max@")])],
            {},
            "signer_list[1].signers[1].email_address",
            "Invalid email address",
        ),
        (
            [row([jack, signer("Buyer", "Bo", "bo@example.com")])],
            {},
            "signer_list[0].signers[1].role",
            "no signer role 'Buyer'",
        ),
        ([row([jack])], {}, "signer_list[0].signers", "a signer for the role 'Manager' is required"),
        (
            [row([jack, max_]), row([jack, max_], Colour="red")],
            {},
            "signer_list[1].custom_fields[0].name",
            "no merge field of the template(s) is named 'Colour'",
        ),
        ([row([jack, max_])] * (MAX_ROWS + 1), {}, "signer_list", f"more than the {MAX_ROWS} signature requests"),
        ([], {}, "signer_list", "at least one row"),
        (
            [row([jack, max_])],
            {"custom_fields": [models.SubCustomField(name="Nope", value="x")]},
            "custom_fields[0].name",
            "no merge field",
        ),
    ]
    for signer_list, extra, want_path, want in bad_lists:
        with pytest.raises(dropbox_sign.ApiException) as exc:
            bulk_send(sdk, [tid], ccs=CCS, signer_list=signer_list, **extra)
        status, name, msg, path = error_of(exc)
        assert (status, name, path) == (400, "bad_request", want_path), msg
        assert want in msg, msg
    with pytest.raises(dropbox_sign.ApiException) as exc:  # both, or neither
        bulk_send(sdk, [tid], ccs=CCS, signer_list=[row([jack, max_])], signer_file=csv_file(f"{HEADER}\n{GOOD}\n"))
    assert error_of(exc)[0] == 400
    with pytest.raises(dropbox_sign.ApiException) as exc:
        bulk_embedded(sdk, [tid], "", ccs=CCS, signer_list=[row([jack, max_])])
    assert error_of(exc)[3] == "client_id"
    with pytest.raises(dropbox_sign.ApiException) as exc:
        bulk_send(sdk, ["0" * 40], ccs=CCS, signer_list=[row([jack, max_])])
    assert error_of(exc)[:2] == (404, "not_found")
    assert counts(server) == before  # nothing stored by any refused call
    with pytest.raises(dropbox_sign.ApiException) as exc:
        bulk_api(sdk).bulk_send_job_get("f" * 40)
    assert error_of(exc)[:2] == (404, "not_found")
