"""The LibreOffice converter of a PDF process (paraph.pdf.convert): kept warm, killed when late, replaced after a
crash, isolated; and what an office file gets when LibreOffice is not installed. Real LibreOffice, required
like Chromium (the test fails without it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from paraph.pdf import convert
from paraph.pdf.model import DocumentError
from tests import office_files
from tests.client import wait_until


@pytest.fixture
def converter() -> Iterator[convert.Converter]:
    if shutil.which("soffice") is None:
        pytest.fail("No LibreOffice: apt-get install " + convert.INSTALL + " (.ci/run does).")
    made = convert.Converter()
    yield made
    made.close()


def group(pgid: int) -> list[tuple[int, str, str]]:
    """(pid, state, command) of the live processes of process group ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            found.append((int(entry.name), state, command))
    return found


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def text_of(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def test_a_late_or_crashed_converter_is_killed_and_replaced(converter: convert.Converter) -> None:
    first = converter.convert(b"Warm start\n", "text", timeout=60, max_pages=5)
    assert "Warm start" in text_of(first)
    bridge = converter._bridge
    assert bridge is not None
    pgid = bridge.process.pid
    offices = [pid for pid, _, command in group(pgid) if command.endswith("soffice.bin")]
    assert len(offices) == 1
    # Isolated: its own network namespace, and not root.
    assert os.readlink(f"/proc/{offices[0]}/ns/net") != os.readlink("/proc/self/ns/net")
    assert Path(f"/proc/{offices[0]}").stat().st_uid != 0

    # Warm: the second file goes to the same LibreOffice.
    converter.convert(office_files.docx(["Second file"]), "docx", timeout=60, max_pages=5)
    assert converter._bridge is bridge

    # LibreOffice dies while idle: the next file is converted all the same, by a new one.
    os.kill(offices[0], signal.SIGKILL)
    wait_until(lambda: not any(pid == offices[0] for pid, _, _ in group(pgid)))
    after_crash = converter.convert(b"After a crash\n", "text", timeout=60, max_pages=5)
    assert "After a crash" in text_of(after_crash)

    # Late: killed with its whole session, the file refused, the next one converted by a new converter.
    with pytest.raises(convert.ConversionFailed, match=r"longer than 0\.001 seconds"):
        converter.convert(office_files.long_text(pages=40), "text", timeout=0.001, max_pages=500)
    wait_until(lambda: not group(pgid))
    again = converter.convert(b"Replaced\n", "text", timeout=60, max_pages=5)
    assert "Replaced" in text_of(again)
    assert converter._bridge is not None and converter._bridge.process.pid != pgid


def test_office_files_say_libreoffice_is_not_installed_when_it_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(convert, "_CONVERTER", convert.Converter())
    with pytest.raises(DocumentError) as caught:
        convert.office_to_pdf(office_files.docx(["x"]), "docx", name="deal.docx", timeout=60, max_pages=5)
    assert "'deal.docx' (Word) could not be converted to PDF: LibreOffice is not installed" in caught.value.message
    assert "apt-get install libreoffice-writer-nogui" in caught.value.message


def test_a_new_converter_removes_the_work_folders_of_dead_pdf_processes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A PDF process killed at its time limit never cleans up: the next converter to start does."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"paraph-office-{_dead_pid()}-abc"
    alive = tmp_path / f"paraph-office-{os.getpid()}-abc"
    other = tmp_path / "paraph-office-notes"
    for folder in (dead, alive, other):
        (folder / "profile").mkdir(parents=True)
    convert._sweep_orphans()
    assert not dead.exists()
    assert alive.exists() and other.exists()
