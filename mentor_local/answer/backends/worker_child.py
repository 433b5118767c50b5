"""The model's own process: ``python -m mentor_local.answer.backends.worker_child CONFIG_JSON``.

llama.cpp is native code that can die (an illegal instruction on a CPU it was not built for, a segfault
on a new model file, the kernel's OOM killer).  Here it dies alone: the app that started this process
(``worker.WorkerBackend``) reports it in one line and starts a fresh one.

Protocol: JSON lines.  Requests arrive on stdin; replies leave on a private copy of stdout (fd 1 itself
is pointed at stderr, so a stray native ``printf`` can never corrupt the protocol).

    parent → child  {"id": N, "op": "call"|"stream", "m": METHOD, "a": [...], "k": {...}}
                    {"id": N, "op": "cancel"}          stop stream N after its current token
    child → parent  {"t": "ready", "attrs": {...}}      once, after the model loaded
                    {"id": N, "t": "ok", "v": VALUE}    a call's result
                    {"id": N, "t": "tok", "s": TEXT}    a streamed piece, sent as soon as it is made
                    {"id": N, "t": "end"}               a stream is over (finished or cancelled)
                    {"id": N, "t": "err", "kind": CLASS, "msg": TEXT, "hint": TEXT}

The model object lives for the whole process, so llama.cpp's KV cache keeps the previous prompt and a
follow-up re-reads only what changed.  This process never outlives its parent: the parent-death signal
(Linux) kills it when the parent goes, and it exits as soon as its stdin closes (any OS, any death).

``MENTOR_WORKER_FAKE`` (a JSON object) replaces the model with ``FakeModel``, a scripted stand-in with the
same surface that can kill this process with a signal mid-stream: the crash tests use it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from mentor_local.protocols import ChatModel, Message, TokenStream

if TYPE_CHECKING:
    from mentor_local.answer.backends.llama import LlamaBackend

STREAMS = frozenset({"chat"})
CALLS = frozenset({"count_tokens", "count_many", "info", "prime"})
PR_SET_PDEATHSIG = 1
FAKE_ENV = "MENTOR_WORKER_FAKE"


class ModelConfig(TypedDict):
    """What the parent asks the child to load (the command line's JSON)."""

    model_path: str
    n_ctx: int
    gpu_layers: str | int | None
    threads: int | None
    temperature: float
    seed: int


class FakeSpec(TypedDict, total=False):
    """``MENTOR_WORKER_FAKE``: how ``FakeModel`` behaves (see its docstring)."""

    tokens: list[str]
    delay: float
    load_s: float
    load_error: str
    chat_template: bool
    die: str
    die_after: int
    die_on_load: str
    marker: str


class ServedModel(ChatModel, Protocol):
    """The model a child serves: a chat model that also says how it runs."""

    @property
    def gpu_layers(self) -> int: ...

    @property
    def threads(self) -> int: ...

    def prime(self, messages: Sequence[Message], cache_dir: str | None = None) -> bool: ...


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent goes; exit now if it already went."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the stdin pipe still ends this process when the parent dies
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


class _Out:
    """One JSON line per message on a private fd; whole lines only, written from one thread at a time."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, message: dict[str, object]) -> None:
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self._fd, view)
                except BrokenPipeError:
                    os._exit(0)  # nobody is listening any more: the parent is gone
                view = view[n:]


def _read_requests(inbox: queue.Queue[dict[str, Any]], cancelled: set[int]) -> None:
    """Feed requests to the main thread; a cancel is noted at once, even in the middle of a stream."""
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if request.get("op") == "cancel":
            cancelled.add(int(request.get("id", -1)))
        else:
            inbox.put(request)
    os._exit(0)  # stdin closed: the parent closed us or died; never outlive it


class FakeModel:
    """A scripted model with ``LlamaBackend``'s surface, for tests; never loads native code.

    Spec keys: ``tokens`` (the pieces every stream yields), ``delay`` (seconds per piece), ``load_s``
    (seconds to "load"), ``load_error`` (raise a ``ModelError`` while loading), ``chat_template``,
    ``die`` (a signal name: ``SIGILL``, ``SIGSEGV``, ``SIGKILL``, or ``exit``), ``die_after`` (pieces
    sent before dying), ``die_on_load`` (a signal name: die while loading) and ``marker`` (a file: the death happens only while it exists, and it is removed
    first, so the next process lives — a test re-arms a crash by creating it again).
    """

    def __init__(self, spec: FakeSpec, model_path: Path, *, n_ctx: int = 4096,
                 gpu_layers: str | int | None = "auto", threads: int | None = None) -> None:
        self.spec = spec
        time.sleep(float(spec.get("load_s", 0.0)))
        if spec.get("die_on_load"):
            self._die(str(spec["die_on_load"]))
        if spec.get("load_error"):
            from mentor_local.errors import ModelError

            raise ModelError(str(spec["load_error"]), hint="pass a complete GGUF file with --model")
        self.model_path = Path(model_path)
        self.n_ctx = int(n_ctx)
        self.gpu_layers = 0 if gpu_layers in (None, "auto") else int(gpu_layers)
        self.threads = threads or 1
        self.chat_template = bool(spec.get("chat_template", True))
        self.tokens = [str(t) for t in spec.get("tokens", ["The fake ", "model ", "says ", "hello. "])]

    def info(self) -> dict[str, object]:
        return {"path": str(self.model_path), "chat_template": self.chat_template, "n_ctx": self.n_ctx,
                "gpu_layers": self.gpu_layers, "threads": self.threads, "backend": "fake"}

    def wait_ready(self) -> FakeModel:
        return self

    def close(self) -> None:
        """Nothing to release."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _pieces(self, max_tokens: int) -> TokenStream:
        die_after = int(self.spec.get("die_after", 2))
        for n, piece in enumerate(self.tokens[:max_tokens]):
            if n == die_after:
                self._maybe_die()
            if self.spec.get("delay"):
                time.sleep(float(self.spec["delay"]))
            yield piece
        if die_after >= len(self.tokens[:max_tokens]):
            self._maybe_die()

    def _maybe_die(self) -> None:
        how = self.spec.get("die")
        marker = self.spec.get("marker")
        if not how or (marker and not os.path.exists(marker)):
            return
        if marker:
            os.remove(marker)
        self._die(str(how))

    @staticmethod
    def _die(how: str) -> None:
        if how == "exit":
            os._exit(3)
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a scripted crash leaves no core file behind
        os.kill(os.getpid(), getattr(signal, how))
        time.sleep(10)  # a blocked or handled signal must not let the script go on as if nothing happened
        os._exit(4)

    def chat(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> TokenStream:
        return self._pieces(max_tokens)

    def prime(self, messages: Sequence[Message], cache_dir: str | None = None) -> bool:
        """No state to keep, and no scripted death here: the script plays in ``chat``."""
        return False


def _load(config: ModelConfig) -> FakeModel | LlamaBackend:
    path = Path(config["model_path"])
    fake = os.environ.get(FAKE_ENV)
    if fake:
        return FakeModel(json.loads(fake), path, n_ctx=config["n_ctx"], gpu_layers=config["gpu_layers"],
                         threads=config["threads"])
    from mentor_local.answer.backends.llama import LlamaBackend

    # No probe: this process is the probe (a crash while loading is reported by the parent).
    return LlamaBackend(path, probe=False, n_ctx=config["n_ctx"], gpu_layers=config["gpu_layers"],
                        threads=config["threads"], temperature=config["temperature"], seed=config["seed"])


def _count_many(model: ServedModel, texts: Sequence[str]) -> list[int]:
    return [int(model.count_tokens(t)) for t in texts]


def _call(model: ServedModel, method: str, args: list[Any], kwargs: dict[str, Any]) -> object:
    """A call request's value (``args`` and ``kwargs`` as the JSON request carried them)."""
    if method == "count_many":
        return _count_many(model, *args)
    if method == "count_tokens":
        return model.count_tokens(*args, **kwargs)
    if method == "prime":
        return bool(model.prime(*args, **kwargs))
    return model.info()


def _error(request_id: int, exc: BaseException) -> dict[str, object]:
    from mentor_local.errors import MentorError

    if isinstance(exc, MentorError):
        return {"id": request_id, "t": "err", "kind": type(exc).__name__, "msg": exc.message, "hint": exc.hint}
    return {"id": request_id, "t": "err", "kind": "", "msg": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
            "hint": ""}


def serve(model: ServedModel, inbox: queue.Queue[dict[str, Any]], cancelled: set[int], out: _Out) -> None:
    while True:
        request = inbox.get()
        rid = int(request.get("id", 0))
        method = str(request.get("m", ""))
        args, kwargs = list(request.get("a") or []), dict(request.get("k") or {})
        try:
            if request.get("op") == "stream" and method in STREAMS:
                pieces = model.chat(*args, **kwargs)
                try:
                    for piece in pieces:
                        if rid in cancelled:
                            break
                        out.send({"id": rid, "t": "tok", "s": piece})
                finally:
                    pieces.close()
                out.send({"id": rid, "t": "end"})
            elif request.get("op") == "call" and method in CALLS:
                value = _call(model, method, args, kwargs)
                out.send({"id": rid, "t": "ok", "v": value})
            else:
                out.send({"id": rid, "t": "err", "kind": "", "msg": f"unknown request {request.get('op')}:{method}",
                          "hint": ""})
        except Exception as exc:  # one failed request must not end the process: report it, serve the next
            out.send(_error(rid, exc))
        cancelled.discard(rid)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    die_with_parent(int(os.environ.get("MENTOR_WORKER_PARENT", "0") or 0))
    # Ctrl-C in a terminal reaches the whole process group: the parent decides, not this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = _Out(os.dup(1))
    os.dup2(2, 1)  # native code that prints to stdout now writes to stderr, never into the protocol
    config: ModelConfig = json.loads(args[0] if args else "{}")
    inbox: queue.Queue[dict[str, Any]] = queue.Queue()
    cancelled: set[int] = set()
    # Reading stdin starts before the load, so a parent that dies while the model loads ends this process too.
    threading.Thread(target=_read_requests, args=(inbox, cancelled), daemon=True, name="requests").start()
    try:
        model = _load(config)
    except Exception as exc:
        out.send(_error(0, exc))
        return 0
    attrs = {"n_ctx": model.n_ctx, "chat_template": model.chat_template, "gpu_layers": model.gpu_layers,
             "threads": model.threads}
    out.send({"t": "ready", "attrs": attrs, "info": model.info(), "pid": os.getpid()})
    serve(model, inbox, cancelled, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
