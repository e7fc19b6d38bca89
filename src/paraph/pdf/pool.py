"""The PDF process pool: pypdfium2 is not thread-safe, and a pathological file must not take the server down
with it, so PDF work runs in a few separate processes. What they run is in :mod:`paraph.pdf.stored`, which
also warms each process as it starts.

Each task runs under three limits (ADR 0014):

- time: a task still running after ``timeout`` seconds has its process killed (SIGKILL) and replaced, and
  its caller gets :class:`PdfTimeout`;
- memory: each process has an address-space limit (``RLIMIT_AS``, ``memory_mb``), so a decompression bomb
  fails in that process (:class:`PdfOutOfMemory`, or :class:`PdfProcessCrashed` when C code gives up) instead
  of growing the server; the process is replaced either way;
- turns: queued tasks wait in one queue per lane (the account), and a free process takes the next task of
  the lane served least recently, so one account's queue delays another's task by at most the tasks already
  running.

The pool is hand-written (a process and a pipe per slot, one thread per slot driving it) rather than a
``ProcessPoolExecutor``, which can neither kill one task's process nor choose which queued task runs next.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import resource
import signal
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

T = TypeVar("T")
PDF_TIMEOUT_SECONDS = 120.0
PDF_MEMORY_MB = 1024
PDF_PROCESSES = 2
#: How long a new process may take to import the PDF stack and warm up before it is given up.
START_TIMEOUT_SECONDS = 120.0

log = logging.getLogger(__name__)


class PdfWorkError(Exception):
    """PDF work that did not finish: its process ran past the time limit, out of memory, or died. The
    process was replaced; for a document this is the file's fault (ADR 0007)."""


class PdfTimeout(PdfWorkError, TimeoutError):
    pass


class PdfOutOfMemory(PdfWorkError):
    pass


class PdfProcessCrashed(PdfWorkError):
    pass


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread while it may spawn PDF processes: a child inherits the mask, so a Ctrl+C
    at the terminal (sent to the whole process group) cannot interrupt it while it imports the PDF stack; it
    ignores SIGINT for good in ``_process_start`` and is ended by the pool's shutdown instead."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _process_start(memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops a SIGINT pending since the spawn
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from paraph.pdf.stored import warm_up  # the PDF stack is heavy: loaded in the pool process only

    warm_up()


def _serve(conn: Connection, memory_mb: int) -> None:
    """A pool process: start, say so, then run one task per message until the pipe closes or a task ran out of
    memory (the reply sent first: a process that hit its limit is not trusted with another task)."""
    _process_start(memory_mb)
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        fn, args = message
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            reply = ("oom", None)
        except BaseException as exc:  # every failure goes back to the caller
            reply = ("error", exc)
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("oom", None))
        except Exception as exc:  # the result or the exception does not pickle
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        if reply[0] == "oom":
            return


@dataclass(eq=False, slots=True)
class _Task:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: Future[Any] = field(default_factory=Future)


class _Lanes:
    """Queued tasks, one FIFO per lane; :meth:`take` serves the lane whose last turn is the oldest (a lane never
    served first, in order of arrival), so a lane with many tasks takes turns with the others."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Task]] = {}  # only lanes with queued tasks, in order of arrival
        self._last_turn: dict[str, int] = {}  # same keys
        self._turn = 0
        self._closed = False

    def put(self, lane: str, task: _Task) -> None:
        with self._cond:
            if self._closed:
                raise PdfWorkError("the PDF pool is closed")
            queue = self._queues.get(lane)
            if queue is None:
                queue = self._queues[lane] = deque()
                self._last_turn[lane] = -1
            queue.append(task)
            self._cond.notify()

    def take(self) -> _Task | None:
        """The next task (blocking), or None once closed."""
        with self._cond:
            while not self._queues and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            lane = min(self._queues, key=self._last_turn.__getitem__)  # first among equals: oldest arrival
            queue = self._queues[lane]
            task = queue.popleft()
            if queue:
                self._turn += 1
                self._last_turn[lane] = self._turn
            else:
                del self._queues[lane], self._last_turn[lane]
            return task

    def close(self) -> list[_Task]:
        with self._cond:
            self._closed = True
            left = [task for queue in self._queues.values() for task in queue]
            self._queues.clear()
            self._last_turn.clear()
            self._cond.notify_all()
            return left


#: Pool processes are forked from multiprocessing's fork server, which is started once per Paraph process (on
#: the first pool process) and imports the PDF stack then: a new or replacing pool process is a fork of an
#: interpreter that already holds it (about 0.2 s to warm up, instead of about 1 s of CPU to spawn a fresh
#: interpreter and import everything again). The fork server runs no thread, so forking it is safe.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["paraph.pdf.stored"])


class _Process:
    """One pool process and the parent's end of its pipe."""

    def __init__(self, memory_mb: int) -> None:
        ctx = _CONTEXT
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, memory_mb), name="paraph-pdf", daemon=True)
        # Starting multiprocessing's resource tracker (on the first process) unblocks SIGINT in this thread, before
        # the fork server and the process are started: started first, it leaves the block below in place (the
        # fork server, started inside it, inherits the mask, and so does every process it forks).
        resource_tracker.ensure_running()
        with _sigint_blocked():
            self.process.start()
        child.close()  # the child holds the only write end left: its death reads as EOF here

    def wait_ready(self) -> None:
        """Wait for the process to have imported the PDF stack and warmed up; PdfProcessCrashed otherwise."""
        try:
            if not wait([self.conn], START_TIMEOUT_SECONDS) or self.conn.recv()[0] != "ready":
                raise PdfProcessCrashed("a PDF process did not start")
        except (EOFError, OSError):
            self.kill()
            raise PdfProcessCrashed("a PDF process did not start") from None
        except PdfWorkError:
            self.kill()
            raise

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def run(self, task: _Task, timeout: float) -> bool:
        """Run ``task`` here and settle its future; False when this process is gone (killed or died)."""
        try:
            self.conn.send((task.fn, task.args))
        except (OSError, ValueError):  # the process died since its last task
            task.future.set_exception(PdfProcessCrashed("the PDF process died"))
            self.kill()
            return False
        except Exception as exc:  # the arguments do not pickle: the caller's bug, the process is fine
            task.future.set_exception(exc)
            return True
        try:
            ready = wait([self.conn], timeout)
        except (OSError, ValueError):
            ready = [self.conn]  # recv below reports it
        if not ready:
            self.kill()
            task.future.set_exception(PdfTimeout(f"the PDF work ran past the time limit ({timeout:g} s)"))
            return False
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError, ValueError):
            self.kill()
            task.future.set_exception(PdfProcessCrashed("the PDF process died"))
            return False
        except Exception as exc:  # the reply did not unpickle here; the process is fine
            task.future.set_exception(exc)
            return True
        if kind == "ok":
            task.future.set_result(value)
        elif kind == "error":
            task.future.set_exception(value)
        else:
            self.kill()
            task.future.set_exception(PdfOutOfMemory("the PDF work ran out of memory"))
            return False
        return True

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


_POOLS: weakref.WeakSet[PdfPool] = weakref.WeakSet()


@atexit.register  # registered after multiprocessing's own exit handler, so it runs before it
def _close_pools() -> None:
    """At interpreter exit, stop replacing processes before multiprocessing terminates them."""
    for pool in list(_POOLS):
        pool.close()


class PdfPool:
    """``processes`` PDF processes, started on first use (or :meth:`warm`), each driven by a thread of its own.
    A process that is killed or dies is replaced at once."""

    def __init__(
        self,
        *,
        processes: int = PDF_PROCESSES,
        timeout: float = PDF_TIMEOUT_SECONDS,
        memory_mb: int = PDF_MEMORY_MB,
    ) -> None:
        self.processes = processes
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._lanes = _Lanes()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._running: dict[int, _Process] = {}  # by slot
        self._closed = False
        _POOLS.add(self)

    def _start(self) -> None:
        with self._lock:
            if self._threads or self._closed:
                return
            for slot in range(self.processes):
                thread = threading.Thread(target=self._drive, args=(slot,), name=f"paraph-pdf-{slot}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _spawn(self, slot: int) -> _Process | None:
        """A new ready process for ``slot``, or None when the pool closed or it did not start."""
        with self._lock:
            if self._closed:
                return None
            process = self._running[slot] = _Process(self.memory_mb)  # close() kills it, even while it starts
        try:
            process.wait_ready()
        except PdfWorkError:
            with self._lock:
                self._running.pop(slot, None)
                if self._closed:
                    return None
            log.exception("starting a PDF process failed")
            return None
        return process

    def _drive(self, slot: int) -> None:
        process = self._spawn(slot)
        while True:
            task = self._lanes.take()
            if task is None:
                break
            if not task.future.set_running_or_notify_cancel():
                continue
            if process is None:
                process = self._spawn(slot)
                if process is None:
                    task.future.set_exception(PdfProcessCrashed("no PDF process could be started"))
                    continue
            try:
                alive = process.run(task, self.timeout)
            except Exception as exc:  # a bug here must not leave this slot's callers waiting forever
                log.exception("driving a PDF process failed")
                if not task.future.done():
                    task.future.set_exception(PdfProcessCrashed(f"the PDF process could not be driven: {exc}"))
                process.kill()
                alive = False
            if not alive:
                with self._lock:
                    self._running.pop(slot, None)
                log.warning("a PDF process was replaced: %s", task.future.exception())
                process = self._spawn(slot)
        if process is not None:
            process.kill()

    def warm(self) -> None:
        """Start the PDF processes now rather than on the first document: spawning one and importing the PDF
        stack takes a few hundred milliseconds (``paraph serve`` and ``paraph worker`` call this at start)."""
        self._start()

    def submit(self, fn: Callable[..., T], *args: Any, lane: str = "") -> Future[T]:
        """Queue ``fn(*args)`` (a module-level function, picklable arguments) in ``lane`` (the account)."""
        self._start()
        task = _Task(fn, args)
        self._lanes.put(lane, task)
        return task.future

    def run(self, fn: Callable[..., T], *args: Any, lane: str = "") -> T:
        """Run ``fn(*args)`` in a pool process and return its result or raise its exception;
        :class:`PdfWorkError` when the process was killed at the time limit, ran out of memory or died."""
        return self.submit(fn, *args, lane=lane).result()

    def close(self) -> None:
        """Fail the queued tasks and end the processes (a task running there fails as its process dies)."""
        with self._lock:
            self._closed = True
            running = list(self._running.values())
            self._running.clear()
        for task in self._lanes.close():
            if task.future.set_running_or_notify_cancel():
                task.future.set_exception(PdfWorkError("the PDF pool is closed"))
        for process in running:  # its slot's thread joins it
            if process.process.is_alive():
                process.process.kill()
