"""The model's process dies mid-answer: the app stays up, keeps the question and what was shown, says so in one
line, and the next question works.

The model is a real ``WorkerBackend`` whose child is the scripted fake (``MENTOR_WORKER_FAKE``): it streams a
few pieces, then kills its own process with a real signal.  The index, review and cards are the usual fakes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from mentor_local.answer.backends.worker import WorkerBackend
from mentor_local.domain import Answer
from mentor_local.protocols import ChatModel
from mentor_local.tui.backend import AppIndex
from mentor_local.tui.widgets.chat import ChatTurn
from mentor_local.tui.widgets.prompt import PromptInput
from mentor_local.tui.widgets.status import StatusBar
from scripts.harness.tmux import Tmux
from tests.procs import wait_gone

from .conftest import MakeApp, ready, wait_for
from .fakes import make_answer, make_repo

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ["The model ", "explains ", "the loop ", "query. "]
FACTS = "### Backend Architecture Analysis\n\nViews call the repository once per customer.\n\n"


class WorkerMentor:
    """Streams composed facts, then the model's note from a real ``WorkerBackend``, then the Answer."""

    def __init__(self, index: AppIndex, model: WorkerBackend) -> None:
        self.index = index
        self.chat_model = model
        self.cancelled = threading.Event()

    def model_info(self) -> dict[str, object]:
        return {"path": str(self.chat_model.model_path), "gpu_layers": 0, "n_ctx": 4096, "chat_template": True}

    def cancel(self) -> None:
        self.cancelled.set()

    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[str | Answer]:
        self.cancelled.clear()
        yield FACTS
        pieces = self.chat_model.chat([{"role": "user", "content": question}], max_tokens=64)
        try:
            for piece in pieces:
                if self.cancelled.is_set():
                    return
                yield piece
        finally:
            pieces.close()
        yield make_answer(question)


@pytest.fixture()
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WorkerBackend, Path]]:
    marker = tmp_path / "crash-armed"
    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 28)
    monkeypatch.setenv("MENTOR_WORKER_FAKE", json.dumps({"tokens": TOKENS, "marker": str(marker), "delay": 0.05,
                                                         "die_after": 2, "die": "SIGILL"}))
    model = WorkerBackend(gguf, threads=1, start=False)  # started by the first question, with the test's spec
    yield model, marker
    model.close()


def _pid(model: ChatModel) -> int | None:
    """The model's process id, for the model in its own process (``WorkerBackend``)."""
    return model.pid if isinstance(model, WorkerBackend) else None


def _spec(how: str, marker: Path) -> str:
    return json.dumps({"tokens": TOKENS, "marker": str(marker), "delay": 0.05, "die_after": 2, "die": how})


@pytest.mark.parametrize(("how", "expect"), [("SIGILL", "SIGILL: illegal instruction"),
                                             ("SIGSEGV", "SIGSEGV: segmentation fault"),
                                             ("SIGKILL", "SIGKILL: killed")])
@pytest.mark.asyncio
async def test_a_model_crash_mid_answer_keeps_the_app_the_question_and_the_text(
        make_app: MakeApp, worker: tuple[WorkerBackend, Path], monkeypatch: pytest.MonkeyPatch, how: str,
        expect: str) -> None:
    model, marker = worker
    monkeypatch.setenv("MENTOR_WORKER_FAKE", _spec(how, marker))
    question = "Why is the invoices page slow?"

    app = make_app(mentor_factory=lambda index, settings, previous: WorkerMentor(index, model))
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(pilot)
        marker.touch()
        prompt = app.query_one(PromptInput)
        prompt.load_text(question)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.conversation.answering is None and app.query(ChatTurn), limit=20,
                       what="the crash to be reported")
        await pilot.pause()
        turn = app.query_one(ChatTurn)
        assert app.is_running
        # What was already shown stays: the facts and the two pieces made before the death.
        assert "once per customer" in turn.raw and "The model explains" in turn.raw
        meta = str(turn.query_one(".meta").render())
        assert f"the model process died ({expect}" in meta and "mentor doctor" in meta
        errors = [n.message for n in app._notifications if "model process died" in n.message]
        assert len(errors) == 1 and "\n" not in errors[0] and "mentor doctor" in errors[0]
        assert prompt.text == question  # the question is back in the box
        assert "restarts with the next question" in app.query_one(StatusBar).plain
        # The next question works: a fresh model process answers it.
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.conversation.history) == 1, limit=20, what="the answer after the crash")
        assert app.conversation.last_answer is not None and model.starts == 2
        assert "restarts" not in app.query_one(StatusBar).plain
        pid = model.pid
    # Quitting the app stops the model's process.
    assert pid is not None and wait_gone(pid)


@pytest.mark.asyncio
async def test_esc_during_a_model_answer_stops_it_in_the_child(make_app: MakeApp, worker: tuple[WorkerBackend, Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    model, marker = worker
    monkeypatch.setenv("MENTOR_WORKER_FAKE", json.dumps({"tokens": [f"word{i} " for i in range(200)], "delay": 0.1}))

    app = make_app(mentor_factory=lambda index, settings, previous: WorkerMentor(index, model))
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(pilot)
        app.query_one(PromptInput).load_text("long one")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "word2" in (app.query(ChatTurn).last().raw if app.query(ChatTurn) else ""),
                       what="the first words")
        pid = model.pid
        t0 = time.monotonic()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.conversation.answering is None, limit=5, what="the cancel")
        assert time.monotonic() - t0 < 3
        assert app.query_one(PromptInput).text == "long one"
        # The same child, still loaded, answers the next question at once (the old stream is over in it).
        monkeypatch.setenv("MENTOR_WORKER_FAKE", "{}")
        t0 = time.monotonic()
        assert list(model.chat([{"role": "user", "content": "x"}], max_tokens=2)) == ["word0 ", "word1 "]
        assert time.monotonic() - t0 < 2 and model.pid == pid and model.starts == 1


WORKER_APP = """
import json, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from mentor_local.answer.backends.worker import WorkerBackend
from mentor_local.domain import Answer
from mentor_local.protocols import ChatModel
from mentor_local.tui.backend import AppIndex
from mentor_local.settings import Settings
from mentor_local.tui.app import MentorApp
from tests.tui.fakes import FakeBackend
from tests.tui.test_model_crash import WorkerMentor

repo, home, gguf = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
model = WorkerBackend(gguf, threads=1)
backend = FakeBackend(repo)
kwargs = {{**backend.app_kwargs(), "mentor_factory": lambda index, settings, previous: WorkerMentor(index, model)}}
MentorApp(repo, settings=Settings(home=home), home=home, **kwargs).run()
"""


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


@pytest.mark.skipif(not Tmux.available(), reason="tmux is not installed (apt-get install tmux)")
def test_kill_9_of_the_app_in_a_terminal_leaves_no_model_process(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 28)
    script = tmp_path / "worker_app.py"
    script.write_text(WORKER_APP.format(root=str(ROOT)), encoding="utf-8")
    env = {"PYTHONPATH": str(ROOT), "MENTOR_HOME": str(tmp_path / "home"), "TERM": "xterm-256color",
           "MENTOR_WORKER_FAKE": json.dumps({"tokens": TOKENS})}
    tmux = Tmux([sys.executable, str(script), str(repo), str(tmp_path / "home"), str(gguf)], env)
    try:
        tmux.wait(lambda s: "Ask (Enter sends" in s, 60, "the first paint")
        app_pid = int(tmux._run("display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        deadline = time.monotonic() + 20
        while not children(app_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        kids = children(app_pid)
        assert kids, "the app started no model process"
        os.kill(app_pid, signal.SIGKILL)
        for kid in kids:
            assert wait_gone(kid, 5), f"model process {kid} outlived the killed app"
    finally:
        tmux.close()


@pytest.mark.asyncio
async def test_quitting_while_the_model_loads_stops_it_at_once(make_app: MakeApp, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's own factory (a real Mentor over the model process): a quit does not wait for a slow load."""
    from mentor_local.settings import Settings
    from mentor_local.tui import backend as tui_backend

    gguf = tmp_path / "slow.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 28)
    monkeypatch.setenv("MENTOR_WORKER_FAKE", json.dumps({"load_s": 60}))
    started: list[int] = []

    t0 = time.monotonic()
    app = make_app(mentor_factory=None, settings=Settings(home=tmp_path / "home", model=str(gguf)))
    app._make_mentor = lambda index, settings, previous: tui_backend.make_mentor(index, settings, previous,
                                                                                 opened=app._models)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app._models and _pid(app._models[0]), what="the model process started")
        started.extend(pid for pid in map(_pid, app._models) if pid is not None)
        assert app.mentor is None  # still loading
    exited_at = time.monotonic()
    assert exited_at - t0 < 15
    assert started and all(wait_gone(pid, 3) for pid in started)
