"""The model in its own process: crashes become one line and a fresh child; no child outlives its parent.

The model is the child's scripted stand-in (``MENTOR_WORKER_FAKE``), which streams pieces and then kills
its own process with a real signal; everything else (the process, the pipe, the protocol) is real.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mentor_local.answer.backends.worker import WorkerBackend
from mentor_local.errors import BackendError, ModelCrashed, ModelError
from tests.procs import alive, wait_gone

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ["The ", "model ", "writes ", "this ", "note. "]


@pytest.fixture()
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "fake.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 28)  # the header check runs in the parent; the fake child never reads it
    return path


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """Configure the fake child; returns a function that sets its spec and the crash marker's path."""
    marker = tmp_path / "crash-armed"

    def configure(**spec: Any) -> Path:
        monkeypatch.setenv("MENTOR_WORKER_FAKE", json.dumps({"tokens": TOKENS, "marker": str(marker), **spec}))
        return marker

    configure()
    yield configure


@pytest.fixture()
def worker(gguf: Path, fake: Any) -> Iterator[WorkerBackend]:
    backend = WorkerBackend(gguf, threads=1, start=False)
    yield backend
    pid = backend.pid
    backend.close()
    if pid is not None:
        assert wait_gone(pid)


MESSAGES = [{"role": "user", "content": "why?"}]


@pytest.mark.parametrize(("how", "expect"), [
    ("SIGILL", "SIGILL: illegal instruction"),
    ("SIGSEGV", "SIGSEGV: segmentation fault"),
    ("SIGKILL", "SIGKILL: killed, usually by the kernel's out-of-memory killer"),
    ("exit", "exit status 3"),
])
def test_a_death_mid_stream_is_one_line_and_the_next_call_works(worker: WorkerBackend, fake: Any, how: str,
                                                                   expect: str) -> None:
    marker = fake(die=how, die_after=2)
    assert "".join(worker.chat(MESSAGES, max_tokens=16)) == "".join(TOKENS)  # not armed: a whole answer
    first_pid = worker.pid
    marker.touch()
    got: list[str] = []
    t0 = time.monotonic()
    with pytest.raises(ModelCrashed) as err:
        for piece in worker.chat(MESSAGES, max_tokens=16):
            got.append(piece)
    assert time.monotonic() - t0 < 10
    assert got == TOKENS[:2]  # what was made before the death reached the caller
    line = err.value.one_line()
    assert "\n" not in line and expect in line and "mentor doctor" in line, line
    assert err.value.exit_code == 1 and isinstance(err.value, BackendError)
    assert first_pid is not None and wait_gone(first_pid)
    # The next call starts a fresh child and works; so do the calls after it.
    assert "".join(worker.chat([{"role": "user", "content": "again"}], max_tokens=16)) == "".join(TOKENS)
    assert worker.pid not in (None, first_pid) and worker.starts == 2
    assert worker.count_tokens("three words here") == 3


def test_a_death_during_a_plain_call_is_reported_too(worker: WorkerBackend, gguf: Path) -> None:
    assert worker.count_tokens("a b") == 2
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_gone(pid)
    # Died while idle: nothing was pending, so the next call simply starts a fresh child.
    assert worker.count_tokens("a b c") == 3
    assert worker.starts == 2


def test_stopping_a_stream_early_cancels_it_in_the_child_which_stays_loaded(worker: WorkerBackend, fake: Any) -> None:
    fake(delay=0.3, tokens=[f"w{i} " for i in range(40)])  # 12 s if it were not stopped
    worker.wait_ready()
    pid = worker.pid
    pieces = worker.chat([{"role": "user", "content": "long"}], max_tokens=40)
    assert next(pieces) == "w0 "
    t0 = time.monotonic()
    pieces.close()  # what Mentor does on Esc: stop iterating and close
    assert time.monotonic() - t0 < 1.5
    t0 = time.monotonic()
    assert list(worker.chat([{"role": "user", "content": "short"}], max_tokens=2)) == ["w0 ", "w1 "]
    assert time.monotonic() - t0 < 3, "the cancelled stream went on in the child"
    assert worker.pid == pid and worker.starts == 1


def test_an_abandoned_stream_does_not_block_the_next_request(worker: WorkerBackend, fake: Any) -> None:
    fake(delay=0.05, tokens=[f"w{i} " for i in range(30)])
    pieces = worker.chat(MESSAGES, max_tokens=30)
    next(pieces)  # left open, never closed
    assert worker.count_tokens("one two") == 2
    with pytest.raises(BackendError, match="newer request"):
        next(pieces)
    assert len(list(worker.chat(MESSAGES, max_tokens=30))) == 30


def test_start_returns_at_once_and_the_first_call_waits_for_the_load(gguf: Path, fake: Any) -> None:
    fake(load_s=1.5)
    t0 = time.monotonic()
    backend = WorkerBackend(gguf, threads=1)
    try:
        assert time.monotonic() - t0 < 0.5
        assert backend.pid is not None
        assert backend.n_ctx == 4096 and backend.chat_template is True and backend.threads == 1
        assert time.monotonic() - t0 >= 1.4
        info = backend.info()
        assert info["process"] == "child" and info["pid"] == backend.pid and info["path"] == str(gguf)
    finally:
        backend.close()


def test_a_model_that_fails_to_load_is_a_model_error(gguf: Path, fake: Any) -> None:
    fake(load_error="llama.cpp cannot load fake.gguf: bad tensor")
    backend = WorkerBackend(gguf)
    with pytest.raises(ModelError) as err:
        list(backend.chat([{"role": "user", "content": "x"}], max_tokens=4))
    assert err.value.exit_code == 2 and "bad tensor" in err.value.one_line()
    backend.close()


def test_a_crash_while_loading_is_a_model_error(gguf: Path, fake: Any) -> None:
    fake(die_on_load="SIGSEGV")
    backend = WorkerBackend(gguf)
    with pytest.raises(ModelError) as err:
        backend.wait_ready()
    line = err.value.one_line()
    assert "died while loading fake.gguf (SIGSEGV" in line and "mentor doctor" in line and "\n" not in line
    backend.close()


def test_close_and_garbage_collection_stop_the_child(gguf: Path, fake: Any) -> None:
    backend = WorkerBackend(gguf).wait_ready()
    pid = backend.pid
    assert pid is not None and alive(pid)
    backend.close()
    assert wait_gone(pid, 3)
    other = WorkerBackend(gguf).wait_ready()
    pid = other.pid
    assert pid is not None
    del other
    gc.collect()
    assert wait_gone(pid, 3)


def test_close_from_another_thread_ends_a_stream_with_one_line(gguf: Path, fake: Any) -> None:
    fake(delay=0.2, tokens=[f"w{i} " for i in range(50)])
    backend = WorkerBackend(gguf).wait_ready()
    pieces = backend.chat([{"role": "user", "content": "x"}], max_tokens=50)
    next(pieces)
    threading.Timer(0.3, backend.close).start()
    with pytest.raises(BackendError, match="closed while it was answering"):
        list(pieces)
    assert list(backend.chat([{"role": "user", "content": "x"}], max_tokens=1)) == ["w0 "]  # a later call starts a new child
    backend.close()


def test_a_child_started_from_a_short_lived_thread_outlives_that_thread(gguf: Path, fake: Any) -> None:
    """Linux's parent-death signal follows the thread that started the child: it must not be a worker thread."""
    box: dict[str, WorkerBackend] = {}
    t = threading.Thread(target=lambda: box.setdefault("b", WorkerBackend(gguf).wait_ready()))
    t.start()
    t.join()
    backend = box["b"]
    time.sleep(0.3)
    assert backend.pid is not None and alive(backend.pid)
    assert list(backend.chat([{"role": "user", "content": "x"}], max_tokens=2)) == TOKENS[:2] and backend.starts == 1
    backend.close()


PARENT = textwrap.dedent("""
    import sys, threading, time
    from pathlib import Path
    from mentor_local.answer.backends.worker import WorkerBackend
    box = {}
    # From a thread that then ends, as the TUI's loading worker does.
    t = threading.Thread(target=lambda: box.setdefault("b", WorkerBackend(Path(sys.argv[1])).wait_ready()))
    t.start(); t.join()
    print(box["b"].pid, flush=True)
    if sys.argv[2] == "stay":
        time.sleep(120)
""")


def _parent(gguf: Path, mode: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", PARENT, str(gguf), mode], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), line
    return proc, int(line)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGSEGV"])
def test_no_child_outlives_a_killed_parent(gguf: Path, fake: Any, how: str) -> None:
    proc, child = _parent(gguf, "stay")
    try:
        assert alive(child)
        os.kill(proc.pid, getattr(signal, how))
        proc.wait(10)
        assert wait_gone(child, 5), f"model process {child} outlived its parent"
    finally:
        proc.kill()
        proc.wait(10)


def test_no_child_outlives_a_parent_that_exits(gguf: Path, fake: Any) -> None:
    proc, child = _parent(gguf, "exit")
    assert proc.wait(20) == 0
    assert wait_gone(child, 5)


def test_the_child_exits_when_its_stdin_closes(gguf: Path, fake: Any) -> None:
    """The second guard, for a parent whose death signal could not be set (not Linux, or a race)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    config = json.dumps({"model_path": str(gguf), "n_ctx": 512, "gpu_layers": 0, "threads": 1})
    proc = subprocess.Popen([sys.executable, "-m", "mentor_local.answer.backends.worker_child", config],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    assert json.loads(proc.stdout.readline())["t"] == "ready"
    proc.stdin.close()
    assert proc.wait(5) == 0
    proc.stdout.close()


def test_the_child_makes_no_network_connection(gguf: Path, fake: Any) -> None:
    """The fake never opens a socket; the real model is traced by tests/security/test_offline.py."""
    import socket

    assert socket.socket is not None  # pytest-socket blocks inet sockets here; the child is its own process and pipe-only
    backend = WorkerBackend(gguf).wait_ready()
    pid = backend.pid
    fds = os.listdir(f"/proc/{pid}/fd")
    kinds = {os.readlink(f"/proc/{pid}/fd/{fd}").split(":")[0] for fd in fds if os.path.exists(f"/proc/{pid}/fd/{fd}")}
    assert "socket" not in kinds, kinds
    backend.close()


def test_the_factory_checks_the_header_before_starting_anything(tmp_path: Path) -> None:
    from mentor_local.answer.backends.local import open_local_model

    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGML" + b"\0" * 64)
    with pytest.raises(ModelError, match="wrong magic"):
        open_local_model(bad, n_ctx=512, gpu_layers=0, threads=1, temperature=0.2, probe=True)
