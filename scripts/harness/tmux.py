"""Drive a program in a detached tmux session on a private server (never the user's own tmux).

Used by the TUI tests (tests/tui) and scripts/bench/runtime_bench.py.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping


class Tmux:
    def __init__(self, command: list[str], env: Mapping[str, str], size: tuple[int, int] = (120, 40)) -> None:
        self.socket = f"mentor-test-{os.getpid()}-{time.monotonic_ns()}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # A plain shell first, at its final size, then the program: started directly, the program can
        # read the terminal size before tmux has applied -x/-y and keep drawing at 80x24.
        self._run("new-session", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]), "bash --norc --noprofile")
        # Keep the pane after the program exits so the test can read how it ended.
        self._run("set-option", "-t", "t", "remain-on-exit", "on")
        self.wait(lambda s: s.strip().endswith(("$", "#")), 10, "a shell prompt")
        self.send(f"exec env {exports} {shlex.join(command)}", literal=True)
        self.send("Enter")

    @staticmethod
    def available() -> bool:
        return shutil.which("tmux") is not None

    def _run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-f", "/dev/null", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args[:2])}: {out.stderr.strip()}")
        return out.stdout

    def capture(self) -> str:
        return self._run("capture-pane", "-p", "-t", "t")

    def send(self, *keys: str, literal: bool = False) -> None:
        self._run("send-keys", "-t", "t", *(["-l"] if literal else []), *keys)

    def dead(self) -> tuple[bool, str]:
        state = self._run("display-message", "-p", "-t", "t", "#{pane_dead} #{pane_dead_status}").split()
        return state[0] == "1", state[1] if len(state) > 1 else ""

    def wait(self, condition: Callable[[str], bool], timeout: float, what: str, every: float = 0.1) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if condition(screen):
                return screen
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; the screen:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
