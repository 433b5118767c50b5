"""Time `mentor review` and `mentor profile` end to end (new process each run, as a user runs them).

    python scripts/bench/review_speed.py [FOLDER] [--runs 3] [--cores 2] [--json]

FOLDER defaults to bench-data/open-webui: the open-webui 0.12.4 wheel unpacked (288 Python files).
When it is missing, the script fetches it (network) with:

    .venv/bin/pip download --no-deps open-webui==0.12.4 -d bench-data/wheels
    unzip bench-data/wheels/open_webui-0.12.4-py3-none-any.whl -d bench-data/open-webui

``--cores N`` pins the runs to N CPUs with ``taskset`` where available (the goal is stated for 2 cores).
Goals: review <= 10 s, profile <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "bench-data" / "open-webui"
WHEEL = "open_webui-0.12.4-py3-none-any.whl"


def fetch(target: Path) -> None:
    wheels = ROOT / "bench-data" / "wheels"
    wheel = wheels / WHEEL
    if not wheel.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "open-webui==0.12.4", "-d", str(wheels)],
                       check=True)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)


def timed(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user+sys of the command and its children, ruff included), exit code, stdout."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2, help="pin to this many CPUs with taskset (0: no pinning)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    folder: Path = args.folder.resolve()
    if not folder.is_dir():
        if folder != DEFAULT.resolve():
            raise SystemExit(f"{folder} does not exist")
        fetch(folder)
    pin: list[str] = []
    if args.cores and shutil.which("taskset") and hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[: args.cores]
        pin = ["taskset", "-c", ",".join(map(str, cpus))]
    mentor = [sys.executable, "-m", "mentor_local.cli"]
    py_files = sum(1 for _ in folder.rglob("*.py"))
    results: dict[str, object] = {"folder": str(folder), "python_files": py_files, "cores": args.cores,
                                  "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}
    for name, extra, goal in (("review", ["--json"], 10.0), ("profile", ["--json"], 2.0)):
        times: list[float] = []
        cpus: list[float] = []
        out = ""
        for _ in range(args.runs):
            seconds, cpu, rc, out = timed([*pin, *mentor, name, str(folder), *extra])
            if rc != 0:
                raise SystemExit(f"mentor {name} failed with exit code {rc}")
            times.append(seconds)
            cpus.append(cpu)
        parsed = json.loads(out)
        results[name] = {
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "runs": [round(t, 3) for t in times],
            "cpu_median_s": round(statistics.median(cpus), 3),
            "goal_s": goal,
            "meets_goal": statistics.median(times) <= goal,
            "findings" if name == "review" else "frameworks": len(parsed) if name == "review" else parsed["frameworks"],
        }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{folder} ({py_files} Python files), pinned to {args.cores or 'all'} cores, "
              f"load average {results['load_average']}")
        for name in ("review", "profile"):
            r = results[name]
            assert isinstance(r, dict)
            verdict = "meets" if r["meets_goal"] else "MISSES"
            print(f"mentor {name:8} median {r['median_s']:.2f}s  min {r['min_s']:.2f}s  runs {r['runs']}  "
                  f"cpu {r['cpu_median_s']:.2f}s  ({verdict} the {r['goal_s']:.0f}s goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
