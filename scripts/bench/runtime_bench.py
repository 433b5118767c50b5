#!/usr/bin/env python
"""Runtime benchmark: the model in its own process (``WorkerBackend``) against llama-cpp-python in this process.

Prints, measured in one run on the same GGUF, threads, context and sampling:
  * decode tokens/s through the child vs raw in-process ``llama_cpp.Llama``, runs interleaved (the order
    alternates each round, so a busy machine slows both), medians over ``--repeats`` (goal >= 0.95x);
  * time to first token of a follow-up (the previous turn's prompt and answer, then a new question) vs a
    cold question of the same size, both through the child (goal <= 0.5x): llama.cpp's KV prefix reuse
    survives the move into a child because one model object lives there across calls;
  * RSS of this process (the parent: no llama.cpp loaded) and of the child, after a generation;
  * the cost of a ``count_tokens`` round trip, uncached and cached;
  * with ``--kill-tui REPO``: mentor-tui started in tmux on REPO (indexed), ``kill -9`` once its model is
    loaded, and whether its model process is gone 5 s later (goal: no orphan).

    .venv/bin/python scripts/bench/runtime_bench.py                         # models/*.gguf, physical cores
    .venv/bin/python scripts/bench/runtime_bench.py --repeats 5 --tokens 64 --threads 2
    .venv/bin/python scripts/bench/runtime_bench.py --kill-tui tests/fixtures/saas_app --skip-speed
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))



def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) that process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_text(n_chars: int) -> str:
    """Real code as the prompt's context (the mentor's prompts are mostly code)."""
    text = ""
    for path in sorted((ROOT / "mentor_local").rglob("*.py")):
        text += f"\n# {path.relative_to(ROOT)}\n" + path.read_text(encoding="utf-8")
        if len(text) >= n_chars:
            break
    return text[:n_chars]


def decode_messages(n_chars: int) -> list[dict[str, str]]:
    ask = "Explain, step by step and in detail, what the code above does and what could go wrong in production."
    return [{"role": "system", "content": "You are a senior Python mentor."},
            {"role": "user", "content": f"{context_text(n_chars)}\n\n{ask}"}]


def sampling(temperature: float) -> dict[str, Any]:
    """LlamaBackend's own sampling settings, so the raw runs sample exactly as the child does."""
    from types import SimpleNamespace

    from mentor_local.answer.backends.llama import LlamaBackend

    return dict(LlamaBackend._sampling(SimpleNamespace(temperature=temperature)))  # type: ignore[arg-type]


def timed(pieces: Any) -> tuple[float, float, int]:
    """(first piece at, last piece at, pieces) for a stream, in perf_counter seconds."""
    first = last = 0.0
    n = 0
    for _ in pieces:
        now = time.perf_counter()
        if n == 0:
            first = now
        last = now
        n += 1
    return first, last, n


def raw_stream(llm: Any, messages: list[dict[str, str]], max_tokens: int, params: dict[str, Any]) -> Any:
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, stream=True, **params):
        text = chunk["choices"][0].get("delta", {}).get("content")
        if text:
            yield text


def decode_rate(first: float, last: float, n: int) -> float:
    return (n - 1) / (last - first) if n > 1 and last > first else 0.0


def bench_speed(args: argparse.Namespace, model: Path) -> dict[str, Any]:
    from mentor_local.answer.backends.llama import physical_cores
    from mentor_local.answer.backends.worker import WorkerBackend

    threads = args.threads or physical_cores()
    t0 = time.perf_counter()
    child = WorkerBackend(model, n_ctx=args.n_ctx, gpu_layers=args.gpu_layers, threads=threads)
    started_s = time.perf_counter() - t0
    child.wait_ready()
    load_s = time.perf_counter() - t0
    chat = child.chat_template
    parent_rss_loaded = rss_mb()
    child_rss_loaded = rss_mb(child.pid or 0)
    print(f"model {model.name}  threads {threads}  chat template {chat}  start() returned in {started_s * 1000:.0f} ms, "
          f"loaded in {load_s:.2f} s; RSS parent {parent_rss_loaded:.0f} MB, child {child_rss_loaded:.0f} MB", flush=True)

    # count_tokens: a round trip each, then cached
    texts = [f"def handler_{i}(request):\n    return fetch(request.id, timeout={i})\n" for i in range(200)]
    t0 = time.perf_counter()
    for t in texts:
        child.count_tokens(t)
    uncached_ms = (time.perf_counter() - t0) / len(texts) * 1000
    t0 = time.perf_counter()
    for t in texts:
        child.count_tokens(t)
    cached_ms = (time.perf_counter() - t0) / len(texts) * 1000

    # TTFT: a cold question vs its follow-up, through the child.  Each round uses other code, so a cold
    # prompt shares nothing with what the child's cache holds.
    cold, follow = [], []
    for r in range(args.ttft_rounds):
        body = context_text(args.prompt_chars * (r + 2))[args.prompt_chars * (r + 1):]
        q1 = [{"role": "system", "content": "You are a senior Python mentor."},
              {"role": "user", "content": f"{body}\n\nWhat does this code do?"}]
        start = time.perf_counter()
        first, _, _ = timed(child.chat(q1, max_tokens=args.ttft_tokens))
        cold.append(first - start)
        q2 = [*q1, {"role": "assistant", "content": "It loads settings and serves questions."},
              {"role": "user", "content": "How would I test that?"}]
        start = time.perf_counter()
        first, _, _ = timed(child.chat(q2, max_tokens=args.ttft_tokens))
        follow.append(first - start)
        print(f"ttft round {r + 1}: cold {cold[-1]:.2f} s, follow-up {follow[-1]:.2f} s", flush=True)

    # Decode: the same prompt, raw in this process vs through the child, interleaved.
    import llama_cpp

    from mentor_local.answer.backends.llama import silence_native_logs

    silence_native_logs(llama_cpp)
    gpu = -1 if str(args.gpu_layers) == "auto" and llama_cpp.llama_supports_gpu_offload() else (
        0 if str(args.gpu_layers) == "auto" else int(args.gpu_layers))
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=args.n_ctx, n_threads=threads, n_threads_batch=threads,
                          n_gpu_layers=gpu, seed=7, swa_full=True, verbose=False)
    messages = decode_messages(args.prompt_chars)
    params = sampling(0.2)
    raw_rates: list[float] = []
    child_rates: list[float] = []
    pieces: dict[str, list[int]] = {"raw": [], "child": []}
    # CPU seconds per piece (this process, plus the child for the child's runs): unlike wall time, a busy
    # machine barely moves it, so it shows what the process boundary itself costs.
    cpu: dict[str, list[float]] = {"raw": [], "child": []}
    pid = child.pid or 0
    for r in range(args.repeats):
        order = ("raw", "child") if r % 2 == 0 else ("child", "raw")
        for who in order:
            stream = raw_stream(llm, messages, args.tokens, params) if who == "raw" else \
                child.chat(messages, max_tokens=args.tokens)
            c0 = time.process_time() + cpu_s(pid)
            first, last, n = timed(stream)
            cpu[who].append((time.process_time() + cpu_s(pid) - c0) / max(1, n))
            (raw_rates if who == "raw" else child_rates).append(decode_rate(first, last, n))
            pieces[who].append(n)
        print(f"decode round {r + 1} ({' then '.join(order)}): raw {raw_rates[-1]:.2f} tok/s ({pieces['raw'][-1]} pieces, "
              f"{cpu['raw'][-1] * 1000:.0f} ms CPU each), child {child_rates[-1]:.2f} tok/s ({pieces['child'][-1]} pieces, "
              f"{cpu['child'][-1] * 1000:.0f} ms CPU each)", flush=True)
    child_rss = rss_mb(child.pid or 0)
    child.close()
    raw_med, child_med = statistics.median(raw_rates), statistics.median(child_rates)
    cold_med = statistics.median(cold) if cold else 0.0
    follow_med = statistics.median(follow) if follow else 0.0
    raw_cpu, child_cpu = statistics.median(cpu["raw"]), statistics.median(cpu["child"])
    return {
        "model": model.name, "threads": threads, "tokens": args.tokens, "repeats": args.repeats,
        "start_returns_ms": round(started_s * 1000, 1), "load_s": round(load_s, 2),
        "decode_raw_tok_s": round(raw_med, 2), "decode_child_tok_s": round(child_med, 2),
        "decode_ratio": round(child_med / raw_med, 3) if raw_med else None,
        "decode_raw_all": [round(x, 2) for x in raw_rates], "decode_child_all": [round(x, 2) for x in child_rates],
        "decode_pieces": pieces,
        "cpu_ms_per_piece_raw": round(raw_cpu * 1000, 1), "cpu_ms_per_piece_child": round(child_cpu * 1000, 1),
        "cpu_ratio_raw_over_child": round(raw_cpu / child_cpu, 3) if child_cpu else None,
        "ttft_cold_s": round(cold_med, 3), "ttft_follow_up_s": round(follow_med, 3),
        "ttft_ratio": round(follow_med / cold_med, 3) if cold_med else None,
        "rss_parent_mb_before_raw_load": round(parent_rss_loaded, 1),
        "rss_child_mb": round(max(child_rss, child_rss_loaded), 1),
        "rss_parent_mb_with_raw_model": round(rss_mb(), 1),
        "count_tokens_ms": {"uncached": round(uncached_ms, 3), "cached": round(cached_ms, 4)},
    }


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def kill_tui(repo: Path, index_dir: Path | None) -> dict[str, Any]:
    """kill -9 a running mentor-tui once its model is loaded; is its model process gone?"""
    from scripts.harness.tmux import Tmux

    exe = Path(sys.executable).with_name("mentor-tui")
    cmd = [str(exe), "--repo", str(repo)] + (["--index-dir", str(index_dir)] if index_dir else [])
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "MENTOR_HOME", "MENTOR_MODEL", "MENTOR_KNOWLEDGE_DIR",
                                                          "MENTOR_THREADS", "MENTOR_N_CTX", "HOME")}
    env["TERM"] = "xterm-256color"
    tmux = Tmux(cmd, env)
    try:
        tmux.wait(lambda s: "Ask (Enter sends" in s, 60, "the first paint")
        tmux.wait(lambda s: "model: loading" not in s and ("(CPU)" in s or "(GPU)" in s), 300, "the model loaded")
        app = int(tmux._run("display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        kids = [k for k in children(app)
                if "worker_child" in Path(f"/proc/{k}/cmdline").read_bytes().decode("utf-8", "replace")]
        print(f"mentor-tui pid {app}, model process(es) {kids}; kill -9 {app}", flush=True)
        os.kill(app, signal.SIGKILL)
        t0 = time.perf_counter()
        while any(alive(k) for k in kids) and time.perf_counter() - t0 < 5:
            time.sleep(0.02)
        left = [k for k in kids if alive(k)]
        gone_s = time.perf_counter() - t0
        print(f"model process gone after kill -9: {not left} (within {gone_s:.2f} s); orphans: {left}", flush=True)
        for k in left:
            os.kill(k, signal.SIGKILL)
        return {"tui_pid": app, "model_pids": kids, "orphans": left, "gone_within_s": round(gone_s, 2)}
    finally:
        tmux.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="a GGUF (default: as the app resolves it)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--gpu-layers", default="0")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--tokens", type=int, default=48, help="tokens decoded per run")
    ap.add_argument("--repeats", type=int, default=5, help="decode runs of each kind (interleaved)")
    ap.add_argument("--prompt-chars", type=int, default=3000, help="characters of code in each prompt (~4 per token)")
    ap.add_argument("--ttft-rounds", type=int, default=3)
    ap.add_argument("--ttft-tokens", type=int, default=2)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--kill-tui", type=Path, default=None, metavar="REPO", help="also kill -9 mentor-tui on REPO")
    ap.add_argument("--index-dir", type=Path, default=None)
    args = ap.parse_args()
    from mentor_local import offline

    offline.apply()
    from mentor_local.models import resolve_model

    summary: dict[str, Any] = {}
    if not args.skip_speed:
        summary.update(bench_speed(args, resolve_model(args.model)))
    if args.kill_tui is not None:
        summary["kill_tui"] = kill_tui(args.kill_tui.resolve(), args.index_dir)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
