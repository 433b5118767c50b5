"""The real terminal: start mentor-tui in tmux, type a question, read the screen, quit with ctrl+q."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from mentor_local.domain import SECTION_NAMES
from scripts.harness.tmux import Tmux

from .fakes import make_repo

pytestmark = pytest.mark.skipif(not Tmux.available(), reason="tmux is not installed (apt-get install tmux)")
ROOT = Path(__file__).resolve().parents[2]


def _ask_and_quit(tmux: Tmux, question: str, source_path: str, timeout: float) -> None:
    tmux.wait(lambda s: "Ask (Enter sends" in s, 60, "the first paint")
    tmux.send(question, literal=True)
    tmux.send("Enter")
    seen: set[str] = set()

    def progress(screen: str) -> bool:
        # The chat follows the newest text, so earlier headings scroll away: collect them as they pass.
        seen.update(name for name in SECTION_NAMES if name in screen)
        return "sources (F2)" in screen  # the line under a finished answer

    tmux.wait(progress, timeout, "the end of the answer", every=0.05)
    tmux.wait(lambda s: source_path in s, 10, "a source path in the sources pane")
    for _ in range(60):  # page back up through the answer (PageUp from the question box) to read every heading
        if len(seen) == len(SECTION_NAMES) or f"You {question[:20]}" in tmux.capture():
            break
        tmux.send("PageUp")
        time.sleep(0.2)
        seen.update(name for name in SECTION_NAMES if name in tmux.capture())
    assert seen == set(SECTION_NAMES), f"headings seen: {sorted(seen)}\n{tmux.capture()}"
    tmux.send("C-q")
    deadline = time.monotonic() + 15
    while tmux.dead()[1] == "" and time.monotonic() < deadline:  # tmux fills in the status a moment after
        time.sleep(0.1)
    dead, status = tmux.dead()
    # The pane is dead once the program has exited and closed the terminal.  tmux reports the exit
    # status only after it reaps the process; for the real app (llama.cpp, torch loaded) it was seen
    # to leave it unreaped for a while, so an empty status is accepted, a non-zero one is not.
    assert dead and status in ("0", ""), (dead, status)


def test_fake_backend_in_a_real_terminal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    env = {"PYTHONPATH": str(ROOT), "MENTOR_HOME": str(tmp_path / "home"), "TERM": "xterm-256color"}
    tmux = Tmux([sys.executable, str(ROOT / "tests" / "tui" / "fake_app.py"), str(repo), str(tmp_path / "home")], env)
    try:
        # ctrl+j makes a new line in the box, Enter sends: checked through a real pty.
        tmux.wait(lambda s: "Ask (Enter sends" in s, 60, "the first paint")
        tmux.send("first line", literal=True)
        tmux.send("C-j")
        tmux.send("second line", literal=True)
        # Not M-Enter: Textual reads ESC CR as plain enter (alt+enter and shift+enter need the kitty protocol).
        tmux.send("C-j")
        tmux.send("third", literal=True)
        screen = tmux.wait(lambda s: "third" in s, 10, "the typed text")
        lines = screen.splitlines()
        first = next(i for i, ln in enumerate(lines) if "first line" in ln)
        assert "second line" in lines[first + 1] and "third" in lines[first + 2]
        for _ in range(3):  # TextArea: ctrl+u deletes to the line start, backspace joins lines
            tmux.send("C-u")
            tmux.send("BSpace")
        tmux.wait(lambda s: "first line" not in s and "third" not in s, 10, "an empty box")
        _ask_and_quit(tmux, "Why is the invoices page slow?", "app/views.py:4-7", 60)
    finally:
        tmux.close()


@pytest.mark.slow
def test_real_mentor_tui_answers_in_tmux(real_setup: dict[str, Path]) -> None:
    exe = Path(sys.executable).with_name("mentor-tui")
    if not exe.exists():
        pytest.skip(f"{exe} not installed (pip install -e .)")
    env = {
        "MENTOR_HOME": str(real_setup["home"]),
        "MENTOR_KNOWLEDGE_DIR": str(real_setup["knowledge"]),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    cmd = [str(exe), "--repo", str(real_setup["repo"]), "--index-dir", str(real_setup["index"])]
    tmux = Tmux(cmd, env)
    try:
        _ask_and_quit(tmux, "How do I make total_for_customer faster?", "app/db.py", 900)
    finally:
        tmux.close()
