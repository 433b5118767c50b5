"""Reliability report: faults injected and survived, bad inputs, planted secrets, connect attempts, memory.

    .venv/bin/python scripts/bench/reliability_report.py                 # 20 kills, 200 search cycles
    .venv/bin/python scripts/bench/reliability_report.py --kills 5 --cycles 50 --fuzz-examples 60 --json-out r.json

Everything runs on the real components (tree-sitter, Chroma, SQLite, the bundled embedder; the bundled GGUF
for ``mentor ask``) in a scratch app home, with three pattern cards so a cold run costs minutes, not an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def kill_rounds(work: Path, kills_wanted: int, seed: int) -> dict[str, Any]:
    """kill -9 an index run at random points until ``kills_wanted`` kills landed; resume; compare with a clean run."""
    from mentor_local.index import build_index
    from scripts.harness.crash import DRIVER, index_state, make_crash_repo

    repo = make_crash_repo(work / "kill-repo")
    idx = work / "kill-idx"
    rng = random.Random(seed)
    kills = rounds = 0
    while kills < kills_wanted and rounds < kills_wanted * 4:
        rounds += 1
        # fresh work in every round (new functions in a few files), so there is always something to interrupt
        for _ in range(4):
            victim = repo / f"mod_{rng.randrange(40)}.py"
            victim.write_text(victim.read_text() + f"\n\ndef extra_{rounds}_{rng.randrange(10**6)}(x):\n"
                              f"    return x * {rounds}\n")
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(repo), str(idx)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.startswith("PROGRESS"):
            time.sleep(rng.uniform(0.0, 1.5))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
        proc.wait()
    resumed = build_index(repo, idx)
    clean_idx = work / "kill-clean"
    build_index(repo, clean_idx)
    a, b = index_state(repo, idx), index_state(repo, clean_idx)
    same = a[0] == b[0] and a[1] == a[0] and b[1] == b[0] and a[2] == b[2] and a[3] and b[3]
    return {"rounds": rounds, "kills": kills, "resumed_equals_clean": bool(same), "chunks": resumed.chunks_total,
            "integrity_ok": bool(a[3])}


def pytest_counts(args: list[str], env: dict[str, str], work: Path, name: str) -> dict[str, Any]:
    xml = work / f"{name}.xml"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--junitxml={xml}", *args],
                   cwd=ROOT, env=env, capture_output=True, text=True)
    cases = []
    for case in ET.parse(xml).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        status = ("failed" if tags & {"failure", "error"} else
                  "xfailed" if "skipped" in tags and "xfail" in (case.find("skipped").get("type", "") +  # type: ignore[union-attr]
                                                                   case.find("skipped").get("message", "")) else  # type: ignore[union-attr]
                  "skipped" if "skipped" in tags else "passed")
        cases.append((case.get("name"), status))
    counts = {s: sum(1 for _, st in cases if st == s) for s in ("passed", "failed", "xfailed", "skipped")}
    return {**counts, "seconds": round(time.perf_counter() - t0, 1),
            "failed_cases": [n for n, s in cases if s == "failed"], "xfailed_cases": [n for n, s in cases if s == "xfailed"]}


def sandbox_run(work: Path, env: dict[str, str], ask: bool) -> dict[str, Any]:
    """index/search/review/ask in ``unshare -rn`` under strace, on a repo of planted secrets and bad files."""
    from scripts.harness.hostile import HIDDEN_CHARS, HOSTILE_TEXTS, planted_secrets
    from scripts.harness.sandbox import (
        BAD_FILES,
        HOSTILE_ENV,
        bad_connects,
        count_connects,
        every_file,
        find_secrets,
        make_hostile_repo,
        run_sandboxed,
        tools_missing,
    )

    why = tools_missing()
    if why:
        return {"skipped": why}
    secrets = planted_secrets()
    repo = make_hostile_repo(work / "planted", secrets)
    idx = work / "planted-idx"
    env = {**env, **HOSTILE_ENV, "MENTOR_MAX_TOKENS": "48"}
    commands = {
        "index": ["index", str(repo), "--index-dir", str(idx), "--json", "--show-skipped"],
        "search": ["search", "stripe key database password ignore previous instructions", "--repo", str(repo),
                   "--index-dir", str(idx), "--json", "-k", "20"],
        "review": ["review", str(repo), "--json"],
    }
    if ask:
        commands["ask"] = ["ask", "How are the database password and API keys configured?", "--repo", str(repo),
                           "--index-dir", str(idx), "--json"]
    outputs: dict[str, str] = {}
    codes: dict[str, int] = {}
    connects = 0
    bad: list[str] = []
    for name, args in commands.items():
        trace = work / f"{name}.trace"
        proc = run_sandboxed(args, cwd=work, env=env, trace=trace)
        outputs[name] = proc.stdout + proc.stderr
        codes[name] = proc.returncode
        text = trace.read_text() if trace.exists() else ""
        connects += count_connects(text)
        bad += bad_connects(text)
    home = Path(env["MENTOR_HOME"])
    found = find_secrets(every_file(idx, home / "cache"), secrets, outputs)
    in_repo = {k for _, k in find_secrets(every_file(repo / "app"), secrets)}
    hidden = sum(1 for o in outputs.values() for ch in HIDDEN_CHARS if ch in o)
    return {"exit_codes": codes, "planted_secrets": len(secrets), "secret_kinds": len({p.kind for p in secrets}),
            "secret_kinds_seen_in_repo": len(in_repo), "secrets_found_in_index_cache_outputs": len(found),
            "found": found[:20], "connect_calls": connects, "connects_beyond_loopback": len(bad), "bad": bad[:20],
            "bad_files": len(BAD_FILES) + 1, "hostile_texts": len(HOSTILE_TEXTS), "hidden_chars_in_outputs": hidden}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--cycles", type=int, default=200, help="cycles for the memory check (each a search)")
    ap.add_argument("--ask-cycles", type=int, default=0, help="of those cycles, how many also ask (bundled GGUF)")
    ap.add_argument("--fuzz-examples", type=int, default=200)
    ap.add_argument("--no-ask", action="store_true", help="leave mentor ask out of the sandboxed run")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    from scripts.harness.sandbox import small_knowledge

    work = Path(tempfile.mkdtemp(prefix="mentor-reliability-"))
    home = work / "home"
    os.environ["MENTOR_HOME"] = str(home)
    os.environ["MENTOR_KNOWLEDGE_DIR"] = str(small_knowledge(work / "cards"))
    from mentor_local import offline

    offline.apply()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    report: dict[str, Any] = {"work": str(work)}
    t0 = time.perf_counter()

    report["sandbox"] = sandbox_run(work, env, ask=not args.no_ask)
    report["kill9"] = kill_rounds(work, args.kills, args.seed)
    report["store_faults"] = pytest_counts(
        ["tests/security/test_store_faults.py", "tests/security/test_env.py",
         "tests/indexing/test_index.py::test_second_writer_gets_busy_within_two_seconds",
         "tests/indexing/test_crash.py::test_lock_of_a_killed_process_is_recovered"], env, work, "faults")
    report["fuzz"] = pytest_counts(["tests/security/test_fuzz.py", "tests/security/test_redact.py",
                                    "tests/security/test_sanitize.py"],
                                   {**env, "MENTOR_FUZZ_EXAMPLES": str(args.fuzz_examples), "MENTOR_FUZZ_RANDOM": "1"}, work, "fuzz")
    from scripts.harness.memory import run_cycles

    mem = run_cycles(work / "memory", args.cycles, args.ask_cycles)
    report["memory"] = mem
    report["seconds"] = round(time.perf_counter() - t0, 1)

    sb, k9, sf, fz = report["sandbox"], report["kill9"], report["store_faults"], report["fuzz"]
    lines = [
        "mentor-local reliability report",
        f"  kill -9 during indexing : {k9['kills']} kills in {k9['rounds']} runs; resumed == clean: "
        f"{k9['resumed_equals_clean']}; integrity_check ok: {k9['integrity_ok']}",
        f"  store faults (damaged catalog/Chroma x6, missing generation, full disk x2, busy, stale lock, env): "
        f"{sf['passed']} survived, {sf['failed']} failed, {sf['xfailed']} known failures (xfail) {sf['xfailed_cases']}",
        f"  bad inputs              : {sb.get('bad_files', 0)} bad files + {sb.get('hostile_texts', 0)} hostile texts "
        f"(exit codes {sb.get('exit_codes')}); fuzz: {fz['passed']} tests passed at up to {args.fuzz_examples} "
        f"examples each, {fz['failed']} failed, {fz['xfailed']} xfail",
        f"  planted secrets         : {sb.get('planted_secrets')} ({sb.get('secret_kinds')} kinds); found in index, "
        f"embedding cache and outputs: {sb.get('secrets_found_in_index_cache_outputs')} (goal 0)",
        f"  connect() calls         : {sb.get('connect_calls')} total; beyond loopback/AF_UNIX: "
        f"{sb.get('connects_beyond_loopback')} (goal 0)",
        f"  hidden characters in outputs: {sb.get('hidden_chars_in_outputs')}",
        f"  memory                  : {mem['cycles']} cycles in one process ({mem['search_cycles']} searches, "
        f"{mem['ask_cycles']} asks with the bundled GGUF): RSS {mem['start_mb']:.0f} -> {mem['end_mb']:.0f} MB "
        f"({mem['growth_mb']:+.1f} MB, goal <= 50); every 20 cycles: {mem['samples_mb']}",
        f"  total {report['seconds']:.0f} s; scratch folder {work}",
    ]
    print("\n".join(lines))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, default=str))
    ok = (k9["resumed_equals_clean"] and sf["failed"] == 0 and fz["failed"] == 0
          and sb.get("secrets_found_in_index_cache_outputs", 0) == 0 and sb.get("connects_beyond_loopback", 0) == 0
          and mem["growth_mb"] <= 50 and all(c == 0 for c in sb.get("exit_codes", {}).values()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
