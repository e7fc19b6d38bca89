"""The LibreOffice side of office conversion (:mod:`paraph.pdf.convert`, ADR 0015): a small program run by the
Python that has LibreOffice's ``uno`` module (Debian's ``python3-uno``: the system ``/usr/bin/python3``, not
Paraph's), never imported by Paraph.

It starts one ``soffice.bin`` (headless, its own profile, a named pipe for UNO, killed with this process),
says ``{"ready": true}`` on stdout, then converts one file per JSON line read on stdin and answers one JSON
line per file: ``{"ok": true, "filter": ...}`` or ``{"error": "password" | "load" | "export", "detail": ...}``.
The caller owns time: it kills this process's session (and with it ``soffice.bin``) when a reply is late.

Standard library and ``uno`` only: this file runs outside Paraph's virtual environment.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

_PR_SET_PDEATHSIG = 1
_CONNECT_SECONDS = 60.0
_RESTART_AFTER_PROFILE = 81
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_NOBODY = 65534


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _isolate() -> str:
    """A network namespace of its own (nothing but a loopback that is down), then, started as root, the user
    ``nobody``; before ``uno`` is imported, while this process has a single thread. Says what it got."""
    libc = ctypes.CDLL(None, use_errno=True)
    network = "isolated"
    if libc.unshare(_CLONE_NEWNET) != 0 and libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        network = f"unshare failed: {os.strerror(ctypes.get_errno())}"
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(_NOBODY)
        os.setuid(_NOBODY)
    return network


def _start_office(soffice_bin: str, profile_url: str, pipe: str) -> subprocess.Popen[bytes]:
    args = [
        soffice_bin,
        f"-env:UserInstallation={profile_url}",
        "--headless",
        "--invisible",
        "--nologo",
        "--norestore",
        "--nodefault",
        "--nolockcheck",
        "--nofirststartwizard",
        f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
    ]
    return subprocess.Popen(  # noqa: S603 - LibreOffice itself, no shell
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )


def _connect(soffice_bin: str, profile_url: str, pipe: str) -> tuple[subprocess.Popen[bytes], Any]:
    sys.path.append(os.path.dirname(soffice_bin))  # LibreOffice's own builds keep uno.py beside soffice.bin
    import uno  # type: ignore[import-not-found]  # only the Python with LibreOffice's bridge has it
    from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + _CONNECT_SECONDS
    office = _start_office(soffice_bin, profile_url, pipe)
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return office, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            code = office.poll()
            if code == _RESTART_AFTER_PROFILE:  # a new profile was written: soffice asks to be started again
                office = _start_office(soffice_bin, profile_url, pipe)
            elif code is not None or time.monotonic() > deadline:
                office.kill()
                raise
            time.sleep(0.02)


def _props(**values: Any) -> tuple[Any, ...]:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def _export_filter(doc: Any) -> str:
    if doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
        return "calc_pdf_Export"
    if doc.supportsService("com.sun.star.presentation.PresentationDocument"):
        return "impress_pdf_Export"
    if doc.supportsService("com.sun.star.drawing.DrawingDocument"):
        return "draw_pdf_Export"
    return "writer_pdf_Export"


def _convert(desktop: Any, request: dict[str, Any]) -> dict[str, Any]:
    import uno

    load: dict[str, Any] = {
        "Hidden": True,
        "ReadOnly": True,
        "MacroExecutionMode": 0,  # document.MacroExecMode.NEVER_EXECUTE
        "UpdateDocMode": 0,  # document.UpdateDocMode.NO_UPDATE: no linked content fetched
        "Repair": False,
        "Silent": True,
    }
    if request.get("filter"):
        load["FilterName"] = request["filter"]
    if request.get("filter_options"):
        load["FilterOptions"] = request["filter_options"]
    try:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(request["source"]), "_blank", 0, _props(**load))
    except Exception as exc:
        detail = f"{type(exc).__name__}: {getattr(exc, 'Message', exc)}"
        kind = "password" if "password" in detail.lower() else "load"
        return {"error": kind, "detail": detail}
    if doc is None:
        return {"error": "load", "detail": "the document could not be opened"}
    try:
        export = _export_filter(doc)
        filter_data: dict[str, Any] = {"ExportNotes": False, "ExportFormFields": False, "EmbedStandardFonts": False}
        if request.get("pages"):
            filter_data["PageRange"] = f"1-{int(request['pages'])}"
        data = uno.Any("[]com.sun.star.beans.PropertyValue", _props(**filter_data))
        doc.storeToURL(
            uno.systemPathToFileUrl(request["target"]), _props(FilterName=export, FilterData=data, Overwrite=True)
        )
        return {"ok": True, "filter": export}
    except Exception as exc:
        return {"error": "export", "detail": f"{type(exc).__name__}: {getattr(exc, 'Message', exc)}"}
    finally:
        try:
            doc.close(True)
        except Exception:
            try:
                doc.dispose()
            except Exception:  # noqa: S110 - already gone with the office process: the caller sees it
                pass


def _answers(desktop: Any) -> bool:
    """Whether the office still answers over UNO: a call on a dead one raises (DisposedException)."""
    try:
        desktop.getComponents()
    except Exception:
        return False
    return True


def main() -> int:
    _die_with_parent()
    soffice_bin, profile_url, pipe = sys.argv[1:4]
    out = sys.stdout
    try:
        network = _isolate()
        office, desktop = _connect(soffice_bin, profile_url, pipe)
    except Exception as exc:
        out.write(json.dumps({"ready": False, "detail": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
        return 1
    out.write(json.dumps({"ready": True, "network": network}) + "\n")
    out.flush()
    restarts = 0
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            if office.poll() is not None or not _answers(desktop):
                # Died while idle: a new one, the file is not to blame. The process we started may outlive
                # the office by a moment (a launcher waiting on soffice.bin), hence the question over UNO too.
                # On a pipe of its own: a LibreOffice killed while idle can leave its pipe behind, and a new
                # one asked to accept on that name may never answer (the conversion then ran out of time).
                office.kill()
                office.wait(5)
                restarts += 1
                office, desktop = _connect(soffice_bin, profile_url, f"{pipe}-{restarts}")
            reply = _convert(desktop, json.loads(line))
            if office.poll() is not None or (not reply.get("ok") and not _answers(desktop)):
                return 1  # died on this file: no reply, the caller reports the crash
            out.write(json.dumps(reply) + "\n")
            out.flush()
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: S110 - the office process is gone already; waited for below
            pass
        try:
            office.wait(5)
        except subprocess.TimeoutExpired:
            office.kill()
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
