"""Measure mentor-tui in a real terminal (tmux): first paint, time until it can answer, keys while streaming.

    python scripts/bench/tui_bench.py --repo PATH [--index-dir DIR] [--runs 3]   # the real app, real model
    python scripts/bench/tui_bench.py --fake                                       # the app over scripted fakes

What is measured, each from outside the process, by reading the tmux screen every 10 ms:

* first paint: from the command being started (``exec`` in a ready shell) until the
  question box is on screen; Python start-up and imports included, goal <= 1.0 s on 2 cores;
* ready: until the status bar names the loaded model (the index opened, the GGUF loaded,
  the embedder warm) — from then on a question is answered at once;
* keys while an answer streams: characters typed into the question box while the answer
  is being written, each timed until it shows on screen (median and worst);
* answer: from Enter until the answer's last line (its sources/speed line) is shown.

The repo needs an index (``mentor index PATH``) unless ``--fake``.  Prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAINTED = "Ask (Enter sends"


class Term:
    def __init__(self, size: tuple[int, int] = (120, 40)) -> None:
        # one server per run: reusing a name can meet the previous run's server while it is still exiting
        self.socket = f"mentor-bench-{os.getpid()}-{time.monotonic_ns()}"
        self.tmux("new-session", "-d", "-s", "b", "-x", str(size[0]), "-y", str(size[1]), "bash --norc --noprofile")
        self.tmux("set-option", "-t", "b", "remain-on-exit", "on")
        self.wait(lambda s: "$" in s or "#" in s, 10)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-f", "/dev/null", "-L", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "b")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "b", *(["-l"] if literal else []), *keys)

    def wait(self, cond, timeout: float, every: float = 0.01) -> float:  # type: ignore[no-untyped-def]
        """``perf_counter()`` when ``cond(screen)`` first held."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if cond(self.screen()):
                return time.perf_counter()
            time.sleep(every)
        raise TimeoutError(f"gave up after {timeout}s; screen:\n{self.screen()}")


    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def loaded(screen: str) -> bool:
    if "model: not loaded" in screen:
        raise RuntimeError(f"the model did not load:\n{screen}")
    return PAINTED in screen and any(f"({d})" in screen for d in ("CPU", "GPU", "server"))


def one_run(command: str, question: str, typed: str, answer_timeout: float) -> dict[str, float]:
    term = Term()
    try:
        term.keys(f"exec {command}", literal=True)
        t0 = time.perf_counter()
        term.keys("Enter")
        paint = term.wait(lambda s: PAINTED in s, 60) - t0
        ready = term.wait(loaded, 600) - t0
        term.keys(question, literal=True)
        t_ask = time.perf_counter()
        term.keys("Enter")
        term.wait(lambda s: "writing…" in s or "thinking…" in s, 60)
        # Type while the answer streams; each character is timed until the box shows the text so far.
        latencies: list[float] = []
        streaming_keys = 0
        for i, ch in enumerate(typed):
            still_streaming = "writing…" in term.screen() or "thinking…" in term.screen()
            t_key = time.perf_counter()
            term.keys(ch, literal=True)
            want = typed[: i + 1]
            latencies.append(term.wait(lambda s, w=want: w in s, 30, every=0.005) - t_key)  # type: ignore[misc]
            streaming_keys += int(still_streaming)
        answer_s = term.wait(lambda s: "sources (F2)" in s, answer_timeout, every=0.05) - t_ask
        term.keys("C-q")
        return {
            "first_paint_s": round(paint, 3),
            "ready_s": round(ready, 3),
            "answer_s": round(answer_s, 3),
            "key_echo_median_ms": round(statistics.median(latencies) * 1000, 1),
            "key_echo_max_ms": round(max(latencies) * 1000, 1),
            "keys_typed_while_streaming": streaming_keys,
        }
    finally:
        term.close()


PROBE = """
import asyncio, sys, time
from pathlib import Path
from mentor_local.tui.app import MentorApp

class Probe(MentorApp):
    def _after_first_paint(self):
        self.cpu = time.process_time()
        self.exit()

async def main():
    app = Probe(Path(sys.argv[1]))
    async with app.run_test(size=(120, 40)) as pilot:
        while not hasattr(app, "cpu"):
            await pilot.pause(0.01)
    print(app.cpu)

asyncio.run(main())
"""


def cpu_to_first_paint(repo: Path) -> float:
    """CPU seconds the process spends until the first frame (start-up and imports included).

    On a busy machine wall time mostly measures waiting for a core; CPU time is close to what
    the same start takes on an idle core.
    """
    out = subprocess.run([sys.executable, "-c", PROBE, str(repo)], capture_output=True, text=True, check=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return round(float(out.stdout.strip().splitlines()[-1]), 3)


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import mentor_local.tui.app; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return round(float(out.stdout.strip()), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=None, help="an indexed repo (default: with --fake, a sample)")
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--fake", action="store_true", help="scripted index/model/review instead of the real ones")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--question", default="Why is the invoices page slow and how do I fix it?")
    parser.add_argument("--answer-timeout", type=float, default=900)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="tui-bench-"))
    env = {"MENTOR_HOME": os.environ.get("MENTOR_HOME", str(home)), "TERM": "xterm-256color"}
    repo_for_probe = str(args.repo or home)
    if args.fake:
        sys.path.insert(0, str(ROOT))
        from scripts.harness.repos import make_tui_repo

        repo = args.repo or make_tui_repo(home / "repo")
        env["PYTHONPATH"] = str(ROOT)
        cmd = [sys.executable, str(ROOT / "tests" / "tui" / "fake_app.py"), str(repo), str(home)]
    else:
        if args.repo is None:
            parser.error("--repo is required without --fake")
        exe = Path(sys.executable).with_name("mentor-tui")
        cmd = [str(exe), "--repo", str(args.repo)] + (["--index-dir", str(args.index_dir)] if args.index_dir else [])
    for key in ("MENTOR_KNOWLEDGE_DIR", "MENTOR_MODEL", "MENTOR_INDEX_DIR"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    command = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + shlex.join(cmd)
    typed = "next question typed while the answer streams"
    runs = []
    for n in range(args.runs):
        r = one_run(command, args.question, typed, args.answer_timeout)
        print(f"run {n + 1}: " + ", ".join(f"{k}={v}" for k, v in r.items()), flush=True)
        runs.append(r)
    summary = {
        "mode": "fake" if args.fake else "real",
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "import_s": import_time(),
        "cpu_to_first_paint_s": statistics.median(cpu_to_first_paint(Path(repo_for_probe)) for _ in range(3)),
        "first_paint_s_median": statistics.median(r["first_paint_s"] for r in runs),
        "ready_s_median": statistics.median(r["ready_s"] for r in runs),
        "answer_s_median": statistics.median(r["answer_s"] for r in runs),
        "runs": runs,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
