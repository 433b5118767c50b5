#!/usr/bin/env python
"""Answer benchmark: speed and shape of the mentor's answers over a real codebase, default model, CPU.

Prints, measured in one run:
  * answers with the six sections in order and non-empty, and unbacked citations left (goal 0);
  * time to the first text on screen after Enter (the code read, before the model; goal <= 2 s with a warm
    model), the model's first token on a cold question (goal <= 15 s), the whole answer (goal <= 75 s);
  * a follow-up's first token vs the cold question's, same conversation (goal <= 0.5x);
  * decode tokens/s through Mentor (the model in its own process) vs raw llama-cpp-python in this process on
    the same file, threads and sampling, replaying the same chat messages (goal >= 0.95x);
  * peak RSS of the app process and of the model process (VmHWM), before the raw model is loaded (goal: sum
    <= 2.5 GB).

Default codebase: the flask 3.1.3 wheel unpacked into bench-data/flask (downloaded once with pip).

    .venv/bin/python scripts/bench/answer_bench.py                       # index (once) + 8 questions + 3 pairs
    .venv/bin/python scripts/bench/answer_bench.py --save-replay bench-data/answer-replay.json
    python scripts/bench/answer_bench.py --replay bench-data/answer-replay.json --gpu-layers auto
        # replays the saved retrieval (no Chroma, no embedder needed): for a GPU machine
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "How does Flask route an incoming request to a view function?",
    "Where is the application context pushed and popped?",
    "How does Flask load configuration from files and environment variables?",
    "How are sessions signed, and what happens without a secret key?",
    "How does the test client send requests to the app?",
    "Where are exceptions turned into HTTP error responses?",
    "How do blueprints register their routes on the app?",
    "How can a view stream a response?",
    "What does the flask command do when it cannot find the app?",
    "How are JSON responses built, and which JSON provider is used?",
    "How are static files served and cached?",
    "Where could a request block the server or hang?",
    "In what order do before_request and after_request hooks run?",
    "How does url_for build URLs?",
    "Where is the Jinja environment created and how are templates rendered?",
    "Is there shared mutable state that could race between threads?",
    "How does Flask run async views?",
    "How is debug mode switched on, and is that safe in production?",
    "Where are signals sent and what are they for?",
    "How would I add request validation to a view?",
]
FOLLOW_UPS = [
    (0, "How would I test that?"),
    (3, "How do I rotate the secret key safely?"),
    (5, "Can I return JSON errors instead?"),
    (11, "How do I fix it?"),
    (15, "Where should I add a lock?"),
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def ensure_flask(dest: Path) -> Path:
    if (dest / "flask" / "app.py").is_file():
        return dest
    wheels = dest.parent / "wheels"
    wheel = next(iter(sorted(wheels.glob("flask-3.1.3-*.whl"))), None)
    if wheel is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "flask==3.1.3", "-d", str(wheels)],
                       check=True)
        wheel = next(iter(sorted(wheels.glob("flask-3.1.3-*.whl"))))
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(dest)
    return dest


class ReplayIndex:
    """Serves the retrieval saved by an earlier run: the GPU check needs no Chroma and no embedder."""

    def __init__(self, data: dict[str, Any]) -> None:
        from mentor_local.domain import Hit

        self.repo = Path(data["repo"])
        self.index_dir = Path(data.get("index_dir", "."))
        self._hits = {key: [Hit(**h) for h in hits] for key, hits in data["searches"].items()}

    def search(self, query: str, k: int = 10, source: str = "all") -> list[Any]:
        return self._hits.get(f"{source}\0{query}", [])[:k]


class RecordingIndex:
    def __init__(self, index: Any) -> None:
        self._index = index
        self.repo = index.repo
        self.searches: dict[str, list[dict[str, Any]]] = {}

    def search(self, query: str, k: int = 10, source: str = "all") -> list[Any]:
        import dataclasses

        hits = self._index.search(query, k=k, source=source)
        self.searches[f"{source}\0{query}"] = [dataclasses.asdict(h) for h in hits]
        return hits


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set of a process (VmHWM), in MB; 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def raw_decode(llm: Any, messages: list[dict[str, str]], max_tokens: int, sampling: dict[str, Any]) -> tuple[int, float]:
    """The same chat straight through llama-cpp-python: (tokens after the first, seconds after the first)."""
    first = last = None
    n = 0
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, stream=True, **sampling):
        delta = chunk["choices"][0].get("delta", {})
        if not delta.get("content"):
            continue
        now = time.perf_counter()
        first = first or now
        last = now
        n += 1
    if first is None or last is None or n < 2:
        return 0, 0.0
    return n - 1, last - first


def check(answer: Any) -> tuple[bool, int, int]:
    from mentor_local.answer.citations import SourceRange, find_citations, is_backed
    from mentor_local.domain import SECTION_NAMES

    heads = re.findall(r"^### (.+)$", answer.answer, flags=re.M)
    ok = heads == list(SECTION_NAMES) and all(answer.sections.get(n, "").strip() for n in SECTION_NAMES)
    ranges = [SourceRange(h.path, h.start_line, h.end_line) for h in answer.sources if h.source == "code"]
    ranges += [SourceRange(f.path, f.line, max(f.line, f.end_line)) for f in answer.findings]
    left = sum(1 for c in find_citations(answer.answer) if not is_backed(*c, ranges))
    removed = sum(1 for c in answer.citations if not c.valid)
    return ok, left, removed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=ROOT / "bench-data" / "flask")
    ap.add_argument("--index-dir", type=Path, default=ROOT / "bench-data" / "answer-index-flask")
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--pairs", type=int, default=3, help="cold/follow-up pairs for the TTFT figure")
    ap.add_argument("--model", default=None)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--gpu-layers", default="0")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--save-replay", type=Path, default=None, help="save the retrieval for a --replay run")
    ap.add_argument("--replay", type=Path, default=None, help="use retrieval saved by --save-replay")
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args()

    from mentor_local import offline

    offline.apply()
    from mentor_local.answer.mentor import Mentor
    from mentor_local.settings import Settings

    settings = Settings(n_ctx=args.n_ctx, gpu_layers=str(args.gpu_layers), threads=args.threads, model=args.model,
                        index_dir=args.index_dir)
    t0 = time.perf_counter()
    replay: dict[str, Any] | None = None
    if args.replay:
        replay = json.loads(args.replay.read_text())
        index: Any = ReplayIndex(replay)
        from mentor_local.domain import Finding, RepoProfile

        findings = [Finding(**f) for f in replay["findings"]]
        prof = RepoProfile(**replay["profile"]) if replay.get("profile") else None
        mentor = Mentor(index, settings=settings, reviewer=lambda _: findings, profiler=lambda _: prof)
        index_s = 0.0
    else:
        from mentor_local.index import build_index, open_index

        repo = ensure_flask(args.repo)
        # incremental: a no-op when the index is current; a fresh one when it was made by another chunker
        from mentor_local.errors import IndexMismatchError

        try:
            build_index(repo, index_dir=args.index_dir)
        except IndexMismatchError:
            build_index(repo, index_dir=args.index_dir, rebuild=True)
        index = RecordingIndex(open_index(repo, index_dir=args.index_dir, settings=settings))
        mentor = Mentor(index, settings=settings)
        index_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    mentor.warm()  # the model process loaded, review, profile, and the persona in the model's cache
    load_s = time.perf_counter() - t1
    backend = mentor.backend
    index.search("warm up the embedder", k=1, source="code")
    findings_all = mentor.repo_findings()
    prof = mentor.repo_profile()
    print(f"model {backend.info()}  warm (load + review + persona) {load_s:.2f}s  index open/build {index_s:.1f}s  "
          f"findings {len(findings_all)}", flush=True)

    rows = []
    traces: list[dict[str, Any]] = []
    m_tokens = m_secs = 0.0
    for i, q in enumerate(QUESTIONS[: args.questions]):
        t0q = time.perf_counter()
        first_text = None
        a = None
        for item in mentor.stream(q):
            if isinstance(item, str):
                if first_text is None and item.strip():
                    first_text = time.perf_counter() - t0q
            else:
                a = item
        assert a is not None
        ok, left, removed = check(a)
        m_tokens += a.timings["decode_tokens"]
        m_secs += a.timings["decode_s"]
        traces += mentor.last_trace
        rows.append({"q": q, "ok": ok, "unbacked": left, "removed": removed, "first_text_s": first_text,
                     "dropped": a.checks.get("dropped"), "filled": len(a.checks.get("filled", [])), **a.timings})
        print(f"{i + 1:2d}. ok={ok} unbacked={left} dropped={a.checks.get('dropped')} filled={rows[-1]['filled']} "
              f"first_text={first_text:.2f}s prompt={a.timings['prompt_tokens']} ttft={a.timings['ttft_s']} "
              f"tokens={a.timings['completion_tokens']} tok/s={a.timings['decode_tokens_per_s']} "
              f"total={a.timings['total_s']}s  {q}", flush=True)

    pairs = []
    for qi, follow in FOLLOW_UPS[: args.pairs]:
        first = mentor.ask(QUESTIONS[qi])
        second = mentor.ask(follow, history=[(first.question, first.answer)])
        ok2, left2, _ = check(second)
        pairs.append({"cold_ttft_s": first.timings["ttft_s"], "follow_ttft_s": second.timings["ttft_s"],
                      "follow_ok": ok2, "follow_unbacked": left2, "follow_up": second.timings.get("follow_up")})
        print(f"pair {qi}: cold ttft {first.timings['ttft_s']}s, follow-up ttft {second.timings['ttft_s']}s "
              f"(ok={ok2}, unbacked={left2}, reused turn={second.timings.get('follow_up')})", flush=True)
    child_pid = getattr(backend, "pid", None)
    rss_app = vm_hwm_mb()
    rss_model = vm_hwm_mb(child_pid) if child_pid else 0.0

    # One-shot runs (`mentor ask`): a fresh model process, so the persona is not in its cache. The first reads
    # it and saves its state under an empty app home; the second, another fresh process, loads that state.
    import tempfile

    one_shot: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mentor-bench-home-") as home:
        for label in ("persona_read", "persona_from_disk"):
            m = Mentor(index, settings=settings.replace(home=Path(home)), max_tokens=24,
                       reviewer=lambda _: findings_all, profiler=lambda _: prof)
            tl = time.perf_counter()
            m.load().backend.wait_ready()
            loaded_s = time.perf_counter() - tl
            m.warm()
            assert m.primed is not None
            a = m.ask(QUESTIONS[0])
            m.backend.close()
            one_shot[label] = {"how": m.primed[0], "model_load_s": round(loaded_s, 2),
                               "persona_s": round(m.primed[1], 3), "question_ttft_s": a.timings["ttft_s"],
                               "first_token_after_load_s": round(m.primed[1] + (a.timings["ttft_s"] or 0), 3)}
            print(f"one-shot, {label}: {one_shot[label]}", flush=True)

    # Raw llama-cpp-python in this process, same file, threads, context and sampling, the same chats replayed.
    import llama_cpp

    from mentor_local.answer.backends.llama import LlamaBackend

    info = backend.info()
    raw = LlamaBackend(Path(info["path"]), n_ctx=args.n_ctx, gpu_layers=str(args.gpu_layers),
                       threads=info.get("threads"), probe=False)
    assert isinstance(raw.llm, llama_cpp.Llama)
    sampling = raw._sampling()
    r_tokens = r_secs = 0.0
    for tr in traces:
        n, sec = raw_decode(raw.llm, tr["messages"], tr["max_tokens"], sampling)
        r_tokens += n
        r_secs += sec
    peak = rss_mb()

    cold = [p["cold_ttft_s"] for p in pairs if p["cold_ttft_s"]]
    warm = [p["follow_ttft_s"] for p in pairs if p["follow_ttft_s"]]
    mentor_rate = m_tokens / m_secs if m_secs else 0.0
    raw_rate = r_tokens / r_secs if r_secs else 0.0
    summary = {
        "device": "gpu" if backend.gpu_layers != 0 else "cpu",
        "model": info,
        "questions": len(rows),
        "six_sections_in_order": sum(r["ok"] for r in rows) + sum(p["follow_ok"] for p in pairs),
        "answers_checked": len(rows) + len(pairs),
        "unbacked_citations_left": sum(r["unbacked"] for r in rows) + sum(p["follow_unbacked"] for p in pairs),
        "citations_removed_by_checks": sum(r["removed"] for r in rows),
        "sentences_dropped": sum(r["dropped"] or 0 for r in rows),
        "sections_filled_from_facts": sum(r["filled"] for r in rows),
        "first_text_median_s": round(statistics.median(r["first_text_s"] for r in rows), 3) if rows else None,
        "first_text_max_s": round(max(r["first_text_s"] for r in rows), 3) if rows else None,
        "ttft_median_s": round(statistics.median(r["ttft_s"] for r in rows if r["ttft_s"]), 3) if rows else None,
        "ttft_max_s": round(max(r["ttft_s"] or 0 for r in rows), 3) if rows else None,
        "total_max_s": round(max(r["total_s"] for r in rows), 2) if rows else None,
        "decode_tok_s_mentor": round(mentor_rate, 2),
        "decode_tok_s_raw": round(raw_rate, 2),
        "decode_ratio": round(mentor_rate / raw_rate, 3) if raw_rate else None,
        "decode_tokens_measured": {"mentor": int(m_tokens), "raw": int(r_tokens)},
        "ttft_cold_median_s": round(statistics.median(cold), 3) if cold else None,
        "ttft_follow_up_median_s": round(statistics.median(warm), 3) if warm else None,
        "ttft_ratio": round(statistics.median(warm) / statistics.median(cold), 3) if cold and warm else None,
        "first_question_ttft_s": rows[0]["ttft_s"] if rows else None,
        "mean_total_s": round(statistics.mean(r["total_s"] for r in rows), 2) if rows else None,
        "peak_rss_app_mb": round(rss_app, 1),
        "peak_rss_model_process_mb": round(rss_model, 1),
        "peak_rss_app_plus_model_mb": round(rss_app + rss_model, 1),
        "peak_rss_with_raw_model_mb": round(peak, 1),
        "warm_s": round(load_s, 2),
        "persona_primed": mentor.primed[0] if mentor.primed else None,
        "one_shot": one_shot,
    }
    print(json.dumps(summary, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps({"summary": summary, "rows": rows, "pairs": pairs}, indent=2))
    if args.save_replay and not replay:
        data = {"repo": str(index.repo), "searches": index.searches,
                "findings": [f.to_json() for f in findings_all], "profile": prof.to_json() if prof else None}
        args.save_replay.write_text(json.dumps(data))
        print(f"replay saved to {args.save_replay}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
