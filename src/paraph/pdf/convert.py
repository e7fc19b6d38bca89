"""Office files to PDF with LibreOffice (ADR 0015): Word, Excel, PowerPoint, OpenDocument, RTF, text and HTML.

Runs in a PDF pool process (:mod:`paraph.pdf.stored`), never in the web process. Each pool process keeps one
converter warm once it has converted a file: :mod:`paraph.pdf.office_bridge`, run by the Python that has
LibreOffice's ``uno`` module, holding one headless ``soffice.bin`` with its own temporary profile (macros
off, links never updated, untrusted links blocked), its own network namespace where the platform allows it,
and the ``nobody`` user when started as root. A conversion has ``PARAPH_CONVERT_TIMEOUT`` seconds; a late or
crashed converter is killed (its whole session) and started again for the next file. Starting one costs
a few seconds; a warm one converts a page of text in tens of milliseconds (docs/benchmarks.md).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pypdfium2 as pdfium

from paraph.pdf.model import DocumentError, DocumentErrorKind
from paraph.pdf.sniff import OfficeKind, check_zip_bomb, is_encrypted_ooxml, text_as_utf8

log = logging.getLogger(__name__)

#: How long a converter may take to start (LibreOffice writes a new profile on its first start).
START_TIMEOUT_SECONDS = 60.0
#: A text file is refused before conversion when it has more lines than this many per allowed page (no page of
#: LibreOffice's default text layout holds more), so a huge text file never reaches LibreOffice.
TEXT_LINES_PER_PAGE = 100
_NOBODY = 65534
#: Debian's packages (README: Office files).
INSTALL = "libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui python3-uno"
_BRIDGE = Path(__file__).with_name("office_bridge.py")
_WORKDIR_PREFIX = "paraph-office-"
#: LibreOffice settings of the converter's profile: no macros whatever their source, no linked content loaded
#: from outside the document, no locking, backups, autosave, update checks or spelling (nothing to write or
#: fetch). (path, property, value)
_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Misc", "UseLocking", "false"),
    ("/org.openoffice.Office.Common/Save/Document", "CreateBackup", "false"),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false"),
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false"),
    (
        "/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/Arguments",
        "AutoCheckEnabled",
        "false",
    ),
    ("/org.openoffice.Office.Linguistic/General", "IsSpellAuto", "false"),
)
_REGISTRY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
    ' xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
        for path, name, value in _SETTINGS
    )
    + "</oor:items>\n"
)
_FORMAT_NAMES = {
    "ole": "Office (Word, Excel or PowerPoint 97-2003)",
    "docx": "Word",
    "xlsx": "Excel",
    "pptx": "PowerPoint",
    "odt": "OpenDocument text",
    "ods": "OpenDocument spreadsheet",
    "odp": "OpenDocument presentation",
    "rtf": "RTF",
    "html": "HTML",
    "text": "text",
}
_EXTENSIONS = {"ole": "bin", "text": "txt"}


@dataclass(frozen=True, slots=True)
class Office:
    """Where LibreOffice is: ``soffice.bin`` and a Python that can import ``uno``."""

    soffice_bin: Path
    python: Path


def find_office() -> Office | str:
    """The installed LibreOffice, or why it cannot be used (a sentence for logs and file_error)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return f"LibreOffice is not installed (apt-get install {INSTALL})"
    program = Path(soffice).resolve().parent
    soffice_bin = program / "soffice.bin"
    if not soffice_bin.exists():
        return f"LibreOffice's soffice.bin was not found beside {soffice}"
    for python in (program / "python", Path("/usr/bin/python3")):  # LibreOffice's own builds bundle one
        if python.exists() and (program.joinpath("uno.py").exists() or _system_uno()):
            return Office(soffice_bin, python)
    return "LibreOffice's Python bridge is not installed (apt-get install python3-uno)"


def _system_uno() -> bool:
    return any(Path(p, "uno.py").exists() for p in ("/usr/lib/python3/dist-packages", "/usr/lib/python3/site-packages"))


def describe(kind: OfficeKind) -> str:
    return _FORMAT_NAMES[kind]


class _Bridge:
    """One running converter: the bridge process (its own session, with ``soffice.bin`` in it)."""

    def __init__(self, office: Office, workdir: Path) -> None:
        self.workdir = workdir
        self.gone = False  # the last read found the bridge exited
        profile = workdir / "profile"
        user = profile / "user"
        if not user.exists():
            user.mkdir(parents=True)
            (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
            _give_away(profile, user, user / "registrymodifications.xcu")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            "LANG": "C.UTF-8",
            "SAL_USE_VCLPLUGIN": "svp",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.log_path = workdir / "converter.log"  # what the bridge and LibreOffice say, for a crash's report
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own program and paths, no shell
            [
                str(office.python),
                "-I",
                str(_BRIDGE),
                str(office.soffice_bin),
                profile.as_uri(),
                f"paraph-{uuid.uuid4().hex}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=workdir,
            env=env,
            start_new_session=True,  # killed as a group: the bridge and soffice.bin
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin: IO[bytes] = self.process.stdin
        self._stdout: IO[bytes] = self.process.stdout

    def read(self, timeout: float) -> dict[str, Any] | None:
        """The bridge's next reply; None when it is late or gone (:attr:`gone` tells which)."""
        self.gone = False
        ready, _, _ = select.select([self._stdout], [], [], timeout)
        if not ready:
            return None
        line = self._stdout.readline()
        if not line:
            self.gone = True  # its end of the pipe closed: it exited (perhaps not reaped yet), it is not late
            return None
        reply: dict[str, Any] = json.loads(line)
        return reply

    def send(self, request: dict[str, Any]) -> bool:
        try:
            self._stdin.write(json.dumps(request).encode() + b"\n")
            self._stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for stream in (self._stdin, self._stdout, self._log):
            try:
                stream.close()
            except OSError:
                pass


def _sweep_orphans() -> None:
    """Remove the work folders (profile, files) of converters whose PDF process is gone: a process killed at its
    time limit never runs its exit handlers. Only folders this user (or, as root, ``nobody``) owns."""
    owners = {os.geteuid(), _NOBODY} if os.geteuid() == 0 else {os.geteuid()}
    for folder in Path(tempfile.gettempdir()).glob(f"{_WORKDIR_PREFIX}*-*"):
        pid = folder.name[len(_WORKDIR_PREFIX) :].split("-", 1)[0]
        try:
            if not pid.isdigit() or folder.is_symlink() or folder.stat().st_uid not in owners:
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive (another user's process), or already gone
            continue


def _give_away(*paths: Path) -> None:
    """Started as root, the converter runs as ``nobody``: hand it the files it must write."""
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, _NOBODY, _NOBODY)


class Converter:
    """This process's converter: started on the first office file, kept warm, replaced when killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._office: Office | str | None = None
        self._workdir: Path | None = None
        self._bridge: _Bridge | None = None

    def _ready(self, timeout: float) -> _Bridge:
        if self._office is None:
            self._office = find_office()
        if isinstance(self._office, str):
            raise ConversionUnavailable(self._office)
        if self._bridge is not None and self._bridge.process.poll() is None:
            return self._bridge
        if self._workdir is None:
            _sweep_orphans()
            self._workdir = Path(tempfile.mkdtemp(prefix=f"{_WORKDIR_PREFIX}{os.getpid()}-"))
            _give_away(self._workdir)
            atexit.register(shutil.rmtree, self._workdir, True)
        bridge = _Bridge(self._office, self._workdir)
        reply = bridge.read(max(timeout, START_TIMEOUT_SECONDS))
        if not reply or not reply.get("ready"):
            bridge.kill()
            detail = (reply or {}).get("detail", "it did not answer")
            log.warning("LibreOffice did not start: %s", detail)
            raise ConversionUnavailable(f"LibreOffice did not start ({detail})")
        if reply.get("network") not in (None, "isolated"):
            log.warning("the LibreOffice converter runs without a network namespace of its own: %s", reply["network"])
        self._bridge = bridge
        return bridge

    def convert(self, data: bytes, kind: OfficeKind, *, timeout: float, max_pages: int) -> bytes:
        """``data`` (of ``kind``) as PDF, at most ``max_pages + 1`` pages of it exported (the caller refuses more).

        Raises ConversionUnavailable (LibreOffice missing or not starting) or ConversionFailed."""
        with self._lock:
            bridge = self._ready(timeout)  # a start has its own limit: the time limit is the conversion's
            started = time.monotonic()
            workdir = bridge.workdir
            token = uuid.uuid4().hex
            source = workdir / f"in-{token}.{_EXTENSIONS.get(kind, kind)}"
            target = workdir / f"out-{token}.pdf"
            request: dict[str, Any] = {
                "source": str(source),
                "target": str(target),
                "pages": max_pages + 1,
                "timeout": timeout,  # for messages only: the time is kept here
            }
            if kind == "text":
                data = text_as_utf8(data)
                request.update(filter="Text (encoded)", filter_options="UTF8,LF,,,")
            elif kind == "html":
                request["filter"] = "HTML (StarWriter)"
            source.write_bytes(data)
            _give_away(source)
            try:
                for attempt in range(2):
                    try:
                        return self._attempt(bridge, request, target, timeout - (time.monotonic() - started))
                    except _Crashed:
                        # LibreOffice died on the file: once more with a new one (it may have died of
                        # something else); a file it dies on twice is refused.
                        if attempt == 1 or time.monotonic() - started >= timeout:
                            raise ConversionFailed("the converter crashed on it") from None
                        bridge = self._ready(timeout)
                raise AssertionError("unreachable")
            finally:
                source.unlink(missing_ok=True)
                target.unlink(missing_ok=True)

    def _attempt(self, bridge: _Bridge, request: dict[str, Any], target: Path, timeout: float) -> bytes:
        if not bridge.send(request):
            self._lost()
            raise _Crashed
        reply = bridge.read(max(0.0, timeout))
        if reply is None:
            late = not bridge.gone and bridge.process.poll() is None
            self._lost(report=True)
            if late:
                raise ConversionFailed(f"it took longer than {request['timeout']:g} seconds to convert")
            raise _Crashed
        if reply.get("ok"):
            try:
                return target.read_bytes()
            except OSError:
                raise ConversionFailed("the converter produced no PDF") from None
        if reply.get("error") == "password":
            raise ConversionFailed("it is password-protected; remove the password and upload it again")
        raise ConversionFailed("it is damaged or not a valid file of its kind")

    def _lost(self, *, report: bool = False) -> None:
        if self._bridge is not None:
            self._bridge.kill()
            if report:
                try:
                    said = self._bridge.log_path.read_bytes()[-2000:].decode("utf-8", "replace").strip()
                except OSError:
                    said = ""
                log.warning("a LibreOffice converter was killed or died; it said: %s", said or "nothing")
            self._bridge = None

    def close(self) -> None:
        with self._lock:
            self._lost()


class _Crashed(Exception):
    pass


class ConversionUnavailable(Exception):
    pass


class ConversionFailed(Exception):
    pass


_CONVERTER = Converter()
atexit.register(_CONVERTER.close)


def office_to_pdf(data: bytes, kind: OfficeKind, *, name: str, timeout: float, max_pages: int) -> bytes:
    """Convert an office file in this process's converter; DocumentError(FILE) naming the file otherwise."""
    label = f"'{name}'" if name else "The file"

    def refuse(reason: str) -> DocumentError:
        return DocumentError(DocumentErrorKind.FILE, f"{label} could not be converted to PDF: {reason}.")

    if is_encrypted_ooxml(data):
        raise refuse("it is password-protected; remove the password and upload it again")
    if kind in ("docx", "xlsx", "pptx", "odt", "ods", "odp"):
        try:
            check_zip_bomb(data)
        except DocumentError as exc:
            raise refuse(exc.message) from None
    if kind == "text":
        lines = data.count(b"\n")
        if lines > TEXT_LINES_PER_PAGE * max_pages:
            raise refuse(f"its {lines:,} lines make more than {max_pages} pages, the limit per document")
    try:
        pdf = _CONVERTER.convert(data, kind, timeout=timeout, max_pages=max_pages)
    except ConversionUnavailable as exc:
        raise DocumentError(
            DocumentErrorKind.FILE,
            f"{label} ({describe(kind)}) could not be converted to PDF: {exc}. Upload a PDF instead.",
        ) from None
    except ConversionFailed as exc:
        raise refuse(str(exc)) from None
    if _page_count(pdf) > max_pages:
        raise refuse(f"it makes more than {max_pages} pages, the limit per document")
    return pdf


def _page_count(pdf: bytes) -> int:
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError:
        return 0  # processing reports the damaged PDF
    try:
        return len(document)
    finally:
        document.close()
