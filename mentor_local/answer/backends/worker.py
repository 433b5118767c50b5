"""The model in its own process: ``WorkerBackend`` has ``LlamaBackend``'s surface and forwards to a child.

llama.cpp is native code that can die: an illegal instruction on a CPU the build does not fit, a
segfault on a new model file, the kernel's OOM killer.  In the app's own process that death takes the
user's session with it.  Here the model lives in ``worker_child`` (one ``LlamaBackend`` for the child's
whole life, so llama.cpp's KV cache still serves a follow-up's shared prefix), spoken to in JSON lines
over a pipe.

Lifecycle:

* ``start()`` spawns the child and returns at once; the model loads while the caller does other things.
  The first call (or attribute such as ``n_ctx``) waits until it is loaded.
* A child that dies makes the pending call raise ``ModelCrashed`` with one line (which signal, what to
  do); a death while loading raises ``ModelError``.  The next call starts a fresh child.
* ``close()``, garbage collection and interpreter exit stop the child.  If this process is killed, the
  child dies too: Linux's parent-death signal, and the child exits when its stdin pipe closes.
* Closing a stream early (the consumer stops iterating) cancels it in the child after its current token;
  the child stays loaded for the next call.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mentor_local import errors
from mentor_local.answer.backends.worker_child import ModelConfig
from mentor_local.errors import BackendError, MentorError, ModelCrashed, ModelError
from mentor_local.protocols import Message, TokenStream
from mentor_local.runtime_build import signal_name

CHILD_MODULE = "mentor_local.answer.backends.worker_child"
CRASH_HINT = "run 'mentor doctor'; your next question starts the model again"
CANCEL_WAIT_S = 0.5  # how long closing a stream waits for the child to confirm; later requests wait the rest
COUNT_CACHE = 4096  # token counts kept: prompt assembly counts the same sources again for every section

_WHY = {
    "SIGILL": "illegal instruction: this llama.cpp build uses a CPU instruction this machine lacks",
    "SIGSEGV": "segmentation fault in llama.cpp",
    "SIGBUS": "bus error: the model file changed or could not be read while in use",
    "SIGKILL": "killed, usually by the kernel's out-of-memory killer",
    "SIGABRT": "llama.cpp aborted",
    "SIGFPE": "arithmetic fault in llama.cpp",
    "SIGTERM": "terminated by another process",
}


def describe_exit(returncode: int | None) -> str:
    """``SIGILL: illegal instruction: …`` for a signal, ``exit status N`` otherwise."""
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        name = signal_name(returncode)
        why = _WHY.get(name)
        return f"{name}: {why}" if why else name
    return f"exit status {returncode}"


class _Spawner:
    """Starts children from one thread that lives as long as this process.

    Linux sends the parent-death signal when the *thread* that started a child ends, not when the
    process does: a child started from a Textual worker thread would be killed the moment that worker
    returned.  So every child is started from the main thread or from this long-lived daemon thread.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[list[str], dict[str, Any], dict[str, Any], threading.Event]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        if threading.current_thread() is threading.main_thread():
            return subprocess.Popen(argv, **kwargs)  # noqa: S603 - our own interpreter and module
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="mentor-model-spawner")
                self._thread.start()
        box: dict[str, Any] = {}
        done = threading.Event()
        self._jobs.put((argv, kwargs, box, done))
        done.wait()
        if "error" in box:
            raise box["error"]
        proc: subprocess.Popen[bytes] = box["proc"]
        return proc

    def _run(self) -> None:
        while True:
            argv, kwargs, box, done = self._jobs.get()
            try:
                box["proc"] = subprocess.Popen(argv, **kwargs)  # noqa: S603 - our own interpreter and module
            except Exception as exc:  # handed to the caller, raised in its thread
                box["error"] = exc
            finally:
                done.set()


_SPAWNER = _Spawner()  # one per process by nature: it is the thread the children's death signal is tied to


class _Gone(Exception):
    """The child's pipe closed: it died or was stopped."""


class _Child:
    """One model process: its pipes, a thread reading its replies, and the tail of its stderr."""

    def __init__(self, config: ModelConfig) -> None:
        import mentor_local

        root = str(Path(mentor_local.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["MENTOR_WORKER_PARENT"] = str(os.getpid())
        env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
        argv = [sys.executable, "-m", CHILD_MODULE, json.dumps(config)]
        self.proc = _SPAWNER.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env, close_fds=True)
        self.pid = self.proc.pid
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.attrs: dict[str, Any] | None = None
        self.info: dict[str, Any] = {}
        self.dead = False
        self.stopped = False  # stopped on purpose (close): not a crash
        threading.Thread(target=self._read, daemon=True, name=f"model-{self.pid}-out").start()
        threading.Thread(target=self._drain_stderr, daemon=True, name=f"model-{self.pid}-err").start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                try:
                    self.inbox.put(json.loads(line))
                except ValueError:
                    self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass
        finally:
            self.inbox.put(None)
            self.proc.stdout.close()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        try:
            for line in self.proc.stderr:
                text = line.decode("utf-8", "replace").strip()
                if text:
                    self.stderr_tail.append(text)
        except (OSError, ValueError):
            pass
        finally:
            self.proc.stderr.close()

    def send(self, message: dict[str, Any]) -> None:
        if self.dead:
            raise _Gone
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise _Gone from exc

    def next(self, timeout: float | None = None) -> dict[str, Any]:
        """The next reply; ``queue.Empty`` after ``timeout``; ``_Gone`` once the pipe has closed."""
        if self.dead:
            raise _Gone
        message = self.inbox.get(timeout=timeout)
        if message is None:
            self.dead = True
            raise _Gone
        return message

    def exit_status(self, timeout: float = 5.0) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # the pipe closed but the process lingers: it is of no use any more
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None

    def stop(self) -> None:
        """Close its stdin (it exits at once), then kill it if it has not gone within a second."""
        self.stopped = True
        if self.proc.poll() is None:
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                try:
                    self.proc.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    pass
        elif self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


def _stop_cell(cell: list[_Child | None]) -> None:
    child, cell[0] = cell[0], None
    if child is not None:
        child.stop()


def _error_from(message: dict[str, Any]) -> MentorError:
    """The child's error, as the same ``MentorError`` subclass when it was one."""
    kind = getattr(errors, str(message.get("kind") or ""), None)
    text, hint = str(message.get("msg") or "unknown error"), str(message.get("hint") or "")
    if isinstance(kind, type) and issubclass(kind, MentorError):
        return kind(text, hint=hint)
    return BackendError(f"the model failed: {text}", hint=hint or "run 'mentor doctor'")


class WorkerBackend:
    """A GGUF model in a child process, with ``LlamaBackend``'s methods and attributes (plus ``close``)."""

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, gpu_layers: str | int | None = "auto",
                 threads: int | None = None, probe: bool = True, temperature: float = 0.2, seed: int = 7,
                 start: bool = True) -> None:
        # ``probe`` is accepted for LlamaBackend's signature: the child is the probe (a crash while loading
        # becomes a ModelError here), so no separate test load is needed.
        self.model_path = Path(model_path)
        self.temperature = temperature
        self._config: ModelConfig = {"model_path": str(self.model_path), "n_ctx": n_ctx, "gpu_layers": gpu_layers,
                                      "threads": threads, "temperature": temperature, "seed": seed}
        self._lock = threading.RLock()
        self._cell: list[_Child | None] = [None]
        self._attrs: dict[str, Any] | None = None
        self._info: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._active: int | None = None  # a stream the child may still be producing (cancelled or abandoned)
        self._counts: OrderedDict[str, int] = OrderedDict()
        self.starts = 0  # children started so far (1 + restarts after deaths)
        self._finalizer = weakref.finalize(self, _stop_cell, self._cell)
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> WorkerBackend:
        """Start the child if none is running; returns at once (the model loads in the background)."""
        with self._lock:
            child = self._cell[0]
            if child is None or child.dead or child.proc.poll() is not None:
                self._spawn()
        return self

    def wait_ready(self) -> WorkerBackend:
        """Block until the model is loaded; raises ``ModelError`` if it cannot be."""
        with self._lock:
            self._ready_child()
        return self

    def close(self) -> None:
        """Stop the child (a later call starts a new one).  Safe from any thread, also mid-stream."""
        _stop_cell(self._cell)

    @property
    def pid(self) -> int | None:
        """The running child's process id (``None`` when none runs)."""
        child = self._cell[0]
        return child.pid if child is not None and not child.dead else None

    def _spawn(self) -> _Child:
        old, self._cell[0] = self._cell[0], None
        if old is not None:
            old.stop()
        child = _Child(self._config)
        self._cell[0] = child
        self._active = None
        self.starts += 1
        return child

    def _ready_child(self) -> _Child:
        child = self._cell[0]
        if child is not None and child.attrs is not None and (child.dead or child.proc.poll() is not None):
            child = None  # it died between calls: nothing was pending, so simply start a fresh one
        if child is None:
            child = self._spawn()
        while child.attrs is None:
            try:
                message = child.next()
            except _Gone:
                self._forget(child)
                name = self.model_path.name
                raise ModelError(
                    f"the model process died while loading {name} ({describe_exit(child.exit_status())})",
                    hint="run 'mentor doctor'; if it passes, the file is damaged: pass a complete GGUF with --model",
                ) from None
            if message.get("t") == "ready":
                child.attrs = dict(message.get("attrs") or {})
                child.info = dict(message.get("info") or {})
                self._attrs, self._info = child.attrs, child.info
            elif message.get("t") == "err":
                self._forget(child)
                error = _error_from(message)
                raise error if isinstance(error, ModelError) else ModelError(error.message, hint=error.hint)
        return child

    def _forget(self, child: _Child) -> None:
        if self._cell[0] is child:
            self._cell[0] = None
        self._active = None
        child.stop()

    def _crashed(self, child: _Child) -> MentorError:
        """The error for a call whose child went away; the child is forgotten, so the next call starts one."""
        closed = child.stopped
        self._forget(child)
        if closed:
            return BackendError("the model was closed while it was answering", hint="ask again")
        status = child.exit_status()
        what = describe_exit(status)
        if status is not None and status >= 0 and child.stderr_tail:
            what += f": {child.stderr_tail[-1][:160]}"
        return ModelCrashed(f"the model process died ({what})", hint=CRASH_HINT)

    def _send(self, child: _Child, message: dict[str, Any]) -> None:
        try:
            child.send(message)
        except _Gone:
            raise self._crashed(child) from None

    def _next(self, child: _Child) -> dict[str, Any]:
        try:
            return child.next()
        except _Gone:
            raise self._crashed(child) from None

    def _settle(self, child: _Child) -> None:
        """Before a new request: let a cancelled stream finish in the child and drop its leftovers."""
        rid, self._active = self._active, None
        if rid is None:
            return
        self._send(child, {"id": rid, "op": "cancel"})
        while True:
            message = self._next(child)
            if message.get("id") == rid and message.get("t") in ("end", "err"):
                return

    # -- requests --------------------------------------------------------------------------------
    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            child = self._ready_child()
            self._settle(child)
            rid = next(self._ids)
            self._send(child, {"id": rid, "op": "call", "m": method, "a": list(args)})
            while True:
                message = self._next(child)
                if message.get("id") != rid:
                    continue
                if message.get("t") == "ok":
                    return message.get("v")
                raise _error_from(message)

    def _stream(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> TokenStream:
        with self._lock:
            child = self._ready_child()
            self._settle(child)
            rid = next(self._ids)
            self._send(child, {"id": rid, "op": "stream", "m": method, "a": args, "k": kwargs})
            self._active = rid
        finished = False
        try:
            while True:
                with self._lock:
                    if self._active != rid or self._cell[0] is not child:
                        finished = True
                        raise BackendError("the answer was stopped by a newer request to the model", hint="ask again")
                    message = self._next(child)
                    if message.get("id") != rid:
                        continue
                    kind = message.get("t")
                    if kind != "tok":
                        finished = True
                        self._active = None
                        if kind == "end":
                            return
                        raise _error_from(message)
                yield str(message.get("s", ""))
        except MentorError:
            finished = True
            raise
        finally:
            if not finished:
                self._cancel(child, rid)

    def _cancel(self, child: _Child, rid: int) -> None:
        """Stop stream ``rid`` in the child; wait a moment for it, else the next request waits the rest."""
        with self._lock:
            if self._active != rid or self._cell[0] is not child:
                return
            try:
                child.send({"id": rid, "op": "cancel"})
                while True:
                    message = child.next(timeout=CANCEL_WAIT_S)
                    if message.get("id") == rid and message.get("t") in ("end", "err"):
                        self._active = None
                        return
            except queue.Empty:
                return  # still busy (reading a long prompt): ``_settle`` finishes the job before the next request
            except _Gone:
                self._forget(child)  # died while stopping: the next call starts a fresh one

    # -- LlamaBackend's surface ------------------------------------------------------------------
    def _attr(self, name: str) -> Any:
        if self._attrs is None:
            self.wait_ready()
        assert self._attrs is not None
        return self._attrs[name]

    @property
    def n_ctx(self) -> int:
        return int(self._attr("n_ctx"))

    @property
    def chat_template(self) -> bool:
        return bool(self._attr("chat_template"))

    @property
    def gpu_layers(self) -> int:
        return int(self._attr("gpu_layers"))

    @property
    def threads(self) -> int:
        return int(self._attr("threads"))

    def info(self) -> dict[str, Any]:
        if self._attrs is None:
            self.wait_ready()
        return {**self._info, "process": "child", "pid": self.pid}

    def count_tokens(self, text: str) -> int:
        with self._lock:
            hit = self._counts.get(text)
            if hit is not None:
                self._counts.move_to_end(text)
                return hit
            n = int(self._call("count_tokens", text))
            self._counts[text] = n
            if len(self._counts) > COUNT_CACHE:
                self._counts.popitem(last=False)
            return n

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        """Token counts of several texts in one round trip."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._counts]
            if missing:
                for text, n in zip(missing, self._call("count_many", missing), strict=True):
                    self._counts[text] = int(n)
                while len(self._counts) > COUNT_CACHE:
                    self._counts.popitem(last=False)
            return [self._counts[t] for t in texts]

    def prime(self, messages: Sequence[Message], cache_dir: str | None = None) -> bool:
        """Read the persona into the child's cache (from ``cache_dir`` when an earlier process saved it)."""
        return bool(self._call("prime", [dict(m) for m in messages], cache_dir))

    def chat(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> TokenStream:
        """Stream a chat turn through the model's own template, made in the child."""
        return self._stream("chat", [[dict(m) for m in messages]], {"max_tokens": int(max_tokens), "stop": list(stop)})
