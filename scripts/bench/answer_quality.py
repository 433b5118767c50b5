#!/usr/bin/env python
"""Answer-quality benchmark: does the answer say what *this* code does?

Over the question set ``scripts/bench/answer_questions.jsonl`` (flask 3.1.3, rq 3.0.0, django-allauth
65.22.1, each unpacked from ``pip download --no-deps``), every question lists the facts a correct answer
must name: identifiers of that repo's code that no pattern card contains. Per answer it measures:

  * fact recall: the share of the question's facts named in the answer (whole-word match), and the same
    over the model's own text only (the answer minus what the tool composed: profile line, findings list,
    card list), so a fact the tool printed is never credited to the model;
  * sentences the check dropped (by reason) and kept;
  * backticked identifiers in the answer that appear in neither the sources given nor any pattern card
    (goal 0), and citations left in the answer that no given source backs (goal 0);
  * the six sections present, in order, non-empty;
  * time to the first text on screen (facts), to the model's first token, to the end; decode tokens/s.

``--context-only`` runs no model: it measures the share of facts that reach the model at all (named in
the code excerpts the prompt shows), the ceiling for fact recall, in seconds per question.

    .venv/bin/python scripts/bench/answer_quality.py --split dev            # tune on these
    .venv/bin/python scripts/bench/answer_quality.py --split test           # the held-out part, at the end
    .venv/bin/python scripts/bench/answer_quality.py --split all --out bench-data/answer/run.jsonl
    MENTOR_BENCH_CODE=/tmp/base .venv/bin/python scripts/bench/answer_quality.py ...   # an older checkout's
        pipeline (e.g. `git archive <commit> | tar -x -C /tmp/base`), for a before/after in one set

The corpora are downloaded once into bench-data/answer/ (ignored by git) and indexed once per pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CODE = Path(os.environ.get("MENTOR_BENCH_CODE") or ROOT)
sys.path.insert(0, str(CODE))

DATA = ROOT / "bench-data" / "answer"
QUESTIONS = ROOT / "scripts" / "bench" / "answer_questions.jsonl"
CORPORA = {"flask": "flask==3.1.3", "rq": "rq==3.0.0", "allauth": "django-allauth==65.22.1"}
SECTION_NAMES = ("Backend Architecture Analysis", "Learning Points", "Code Quality Issues", "Implementation Guide",
                 "Python Patterns Taught", "Code Evolution Path")
_BACKTICK = re.compile(r"`([^`\n]+)`")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CITATION = re.compile(r"(?<![\w/.-])((?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[A-Za-z][A-Za-z0-9]{0,7})"
                       r":(\d+)(?:[-–](\d+))?(?!\d)")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def ensure_corpus(name: str) -> Path:
    """bench-data/answer/<name>: the corpus root, unpacked once from the pinned release."""
    dest = DATA / name
    if dest.is_dir() and any(dest.rglob("*.py")):
        return dest
    wheels = DATA / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    pkg, version = CORPORA[name].split("==")
    stem = pkg.replace("-", "_").lower()
    found = [p for p in wheels.iterdir() if p.name.lower().replace("-", "_").startswith(f"{stem}-{version}")]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", CORPORA[name], "-d", str(wheels)],
                       check=True)
        found = [p for p in wheels.iterdir() if p.name.lower().replace("-", "_").startswith(f"{stem}-{version}")]
    archive = sorted(found)[0]
    dest.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:  # an sdist: its top folder holds the package
        with tarfile.open(archive) as tf:
            tf.extractall(dest.parent / f".{name}-sdist", filter="data")
        top = next((dest.parent / f".{name}-sdist").iterdir())
        dest.rmdir()
        top.rename(dest)
    return dest


def load_questions(split: str, ids: list[str] | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    if ids:
        return [r for r in rows if r["id"] in ids]
    return [r for r in rows if split == "all" or r.get("split") == split]


def named(fact: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(fact)}(?![A-Za-z0-9_])", text) is not None


def sections_in_order(text: str) -> bool:
    heads = re.findall(r"^### (.+?)\s*$", text, flags=re.M)
    if [h for h in heads if h in SECTION_NAMES] != list(SECTION_NAMES):
        return False
    parts = re.split(r"^### .+$", text, flags=re.M)[1:]
    return len(parts) >= 6 and all(p.strip() for p in parts[:6])


def unbacked_identifiers(text: str, source_text: str, card_text: str) -> list[str]:
    """Identifiers inside backticks that neither the sources nor any card contain (whole word)."""
    bad: list[str] = []
    for span in _BACKTICK.findall(text):
        if _CITATION.fullmatch(span.strip()) or "/" in span:
            continue  # a citation or a path: checked as a citation
        for ident in _IDENT.findall(span):
            if len(ident) < 2 or ident in {"self", "cls", "None", "True", "False"}:
                continue
            if not (named(ident, source_text) or named(ident, card_text)):
                bad.append(ident)
    return bad


def unbacked_citations(text: str, sources: list[Any], findings: list[Any]) -> list[str]:
    ranges = [(h.path, h.start_line, h.end_line) for h in sources if getattr(h, "source", "code") == "code"]
    ranges += [(f.path, f.line, max(f.line, f.end_line)) for f in findings]
    bad = []
    for m in _CITATION.finditer(text):
        path, start = m.group(1), int(m.group(2))
        end = int(m.group(3) or start)
        if path.startswith("knowledge/"):
            continue
        if not any(p == path and s <= start and end <= e for p, s, e in ranges):
            bad.append(m.group(0))
    return bad


def card_corpus() -> str:
    knowledge = CODE / "knowledge"
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(knowledge.glob("*.md")))


def prompt_counter(mentor: Any) -> Any:
    """The default model's own tokenizer (vocabulary only, no weights), to size prompts without a model."""
    from llama_cpp import Llama

    from mentor_local.models import resolve_model

    path = resolve_model(mentor.model_path or mentor.settings.model or None)
    tok = Llama(model_path=str(path), vocab_only=True, verbose=False)
    return lambda text: len(tok.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def run(args: argparse.Namespace) -> int:
    from mentor_local import offline

    offline.apply()
    from mentor_local.answer.mentor import Mentor
    from mentor_local.domain import Answer
    from mentor_local.index import build_index, open_index

    questions = load_questions(args.split, args.ids)
    if args.limit:
        questions = questions[: args.limit]
    cards = card_corpus()
    for q in questions:  # the set's own promise: no fact is in a card
        leaked = [f for f in q["facts"] if named(f, cards)]
        if leaked:
            print(f"warning: {q['id']}: facts found in a card: {leaked}", file=sys.stderr)
    tag = args.tag or ("base" if CODE != ROOT else "current")
    out_rows: list[dict[str, Any]] = []
    shared_model: Any = None
    counter: Any = None
    for corpus in [c for c in CORPORA if any(q["corpus"] == c for q in questions)]:
        repo = ensure_corpus(corpus)
        idir = DATA / "index" / f"{tag}-{corpus}"
        t = time.perf_counter()
        rep = build_index(repo, index_dir=idir)
        print(f"# {corpus}: index {rep.files_indexed} files, {rep.chunks_total} chunks, "
              f"{time.perf_counter() - t:.1f}s", flush=True)
        index = open_index(repo, index_dir=idir)
        opts: dict[str, Any] = {}
        if args.context_only:
            opts["use_model"] = False
        if args.model:
            opts["model_path"] = args.model
        if args.code_tokens:
            opts["code_tokens"] = args.code_tokens
        if args.user_tokens:
            opts["user_tokens"] = args.user_tokens
        if args.max_tokens:
            opts["max_tokens"] = args.max_tokens
        mentor = Mentor(index, chat_model=shared_model, **opts)
        if args.context_only and counter is None:
            counter = prompt_counter(mentor)
        if not args.context_only:
            mentor.load()
            shared_model = mentor.chat_model
        t = time.perf_counter()
        mentor.repo_findings()  # warm: the review and the profile run once per repo, before the first Enter
        mentor.repo_profile()
        mentor.card_library()
        print(f"# {corpus}: review + profile warm in {time.perf_counter() - t:.1f}s", flush=True)
        for q in [q for q in questions if q["corpus"] == corpus]:
            t0 = time.perf_counter()
            first_text = None
            answer: Answer | None = None
            for item in mentor.stream(q["q"]):
                if isinstance(item, Answer):
                    answer = item
                elif first_text is None and item.strip():
                    first_text = time.perf_counter() - t0
            assert answer is not None
            if counter is not None and mentor.last_trace:  # no model ran: count what it would have read
                messages = mentor.last_trace[-1]["messages"]
                answer.timings["prompt_tokens"] = sum(counter(m["content"]) + 4 for m in messages)
            text = answer.answer
            checks = dict(getattr(answer, "checks", {}) or {})
            model_text = str(checks.get("model_text", "")) if "model_text" in checks else None
            # What the model was given: the code (text and the index's names for it), the findings, the question.
            source_text = "\n".join(f"{h.text}\n{h.symbol} {h.qualname}" for h in answer.sources)
            source_text += "\n" + "\n".join(f"{f.message} {f.rule} {f.topic}" for f in answer.findings)
            source_text += "\n" + q["q"]
            facts = q["facts"]
            shown_code = "\n".join(f"{h.text}\n{h.symbol} {h.qualname}" for h in answer.sources if h.source == "code")
            hit = [f for f in facts if named(f, text)]
            hit_model = [f for f in facts if model_text is not None and named(f, model_text)]
            row = {
                "id": q["id"], "corpus": corpus, "split": q.get("split"), "question": q["q"],
                "facts": facts, "named": hit, "named_by_model": hit_model if model_text is not None else None,
                "recall": len(hit) / len(facts),
                "in_context": [f for f in facts if named(f, shown_code)],
                "context_recall": len([f for f in facts if named(f, shown_code)]) / len(facts),
                "recall_model": (len(hit_model) / len(facts)) if model_text is not None else None,
                "sections_ok": sections_in_order(text),
                "unbacked_identifiers": unbacked_identifiers(text, source_text, cards),
                "unbacked_citations": unbacked_citations(text, answer.sources, answer.findings),
                "dropped": checks.get("dropped", None), "dropped_by_reason": checks.get("dropped_by_reason", {}),
                "kept": checks.get("kept", None), "filled": checks.get("filled", []),
                "dropped_examples": checks.get("dropped_examples", []),
                "first_text_s": round(first_text or 0.0, 3), "ttft_s": answer.timings.get("ttft_s"),
                "total_s": answer.timings.get("total_s"), "prompt_tokens": answer.timings.get("prompt_tokens"),
                "completion_tokens": answer.timings.get("completion_tokens"),
                "decode_tokens_per_s": answer.timings.get("decode_tokens_per_s"),
                "answer": text,
            }
            out_rows.append(row)
            print(f"{q['id']:<12} recall {row['recall']:.2f} (model {row['recall_model']}) "
                  f"in context {row['context_recall']:.2f} "
                  f"sections {'ok' if row['sections_ok'] else 'BAD'} dropped {row['dropped']} "
                  f"unbacked id {len(row['unbacked_identifiers'])} cit {len(row['unbacked_citations'])} "
                  f"first {row['first_text_s']:.2f}s ttft {row['ttft_s']} total {row['total_s']}s "
                  f"prompt {row['prompt_tokens']} tok", flush=True)
            if args.show:
                print(text + "\n" + "-" * 80, flush=True)
        index.close()
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with Path(args.out).open("w") as fh:
            for r in out_rows:
                fh.write(json.dumps(r) + "\n")
    summarize(out_rows, tag)
    print(f"peak RSS (model + embedder + index, one process): {rss_mb():.0f} MB")
    return 0


def summarize(rows: list[dict[str, Any]], tag: str) -> None:
    if not rows:
        print("no questions")
        return

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs) if xs else float("nan")

    def med(xs: list[float]) -> float:
        return statistics.median(xs) if xs else float("nan")

    print(f"\n== {tag}: {len(rows)} answers ==")
    for corpus in sorted({r["corpus"] for r in rows}) + ["all"]:
        sub = [r for r in rows if corpus == "all" or r["corpus"] == corpus]
        model = [r["recall_model"] for r in sub if r["recall_model"] is not None]
        print(f"{corpus:<8} fact recall {mean([r['recall'] for r in sub]):.3f}"
              f"  (model text only: {mean(model):.3f})" if model else
              f"{corpus:<8} fact recall {mean([r['recall'] for r in sub]):.3f}")
    print(f"facts in the prompt's code (ceiling): {mean([r['context_recall'] for r in rows]):.3f}")
    print(f"sections in order, non-empty: {sum(r['sections_ok'] for r in rows)}/{len(rows)}")
    print(f"unbacked backticked identifiers: {sum(len(r['unbacked_identifiers']) for r in rows)}"
          f"  {[i for r in rows for i in r['unbacked_identifiers']][:10]}")
    print(f"unbacked citations left: {sum(len(r['unbacked_citations']) for r in rows)}")
    dropped = [r["dropped"] for r in rows if r["dropped"] is not None]
    kept = [r["kept"] for r in rows if r["kept"] is not None]
    if dropped:
        reasons: dict[str, int] = {}
        for r in rows:
            for k, v in (r["dropped_by_reason"] or {}).items():
                reasons[k] = reasons.get(k, 0) + int(v)
        print(f"sentences dropped by the check: {sum(dropped)} of {sum(dropped) + sum(kept)}  {reasons}")
    print(f"sections filled from facts: {sum(len(r['filled']) for r in rows)}")
    firsts = [r["first_text_s"] for r in rows]
    ttfts = [r["ttft_s"] for r in rows if r["ttft_s"] is not None]
    totals = [r["total_s"] for r in rows if r["total_s"] is not None]
    tps = [r["decode_tokens_per_s"] for r in rows if r["decode_tokens_per_s"]]
    prompts = [r["prompt_tokens"] for r in rows if r["prompt_tokens"]]
    print(f"first text on screen: median {med(firsts):.2f}s max {max(firsts):.2f}s")
    if ttfts:
        print(f"model's first token: median {med(ttfts):.2f}s max {max(ttfts):.2f}s")
    if totals:
        print(f"whole answer: median {med(totals):.1f}s max {max(totals):.1f}s")
    if tps:
        print(f"decode: median {med(tps):.2f} tokens/s")
    if prompts:
        print(f"prompt tokens: median {med(prompts):.0f} max {max(prompts)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    ap.add_argument("--ids", nargs="*", default=None, help="only these question ids")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--model", default=None, help="a GGUF path or a preset (default, small)")
    ap.add_argument("--tag", default=None, help="names the index folders and the summary (default: current/base)")
    ap.add_argument("--out", default=None, help="write one JSON record per answer here")
    ap.add_argument("--show", action="store_true", help="print every answer in full")
    ap.add_argument("--context-only", action="store_true",
                    help="no model: only the share of facts that reach the prompt's code excerpts")
    ap.add_argument("--code-tokens", type=int, default=None, help="Mentor's room for code (default: Mentor's own)")
    ap.add_argument("--user-tokens", type=int, default=None, help="Mentor's room for a question's message")
    ap.add_argument("--max-tokens", type=int, default=None, help="the most tokens the model writes (default: Settings')")
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
