"""The mentor: retrieve, ground, prompt, stream, check — one question at a time.

Which parts of an answer come from where:

* the facts of every section are composed by code (``compose``) from the
  repo profile, the review findings, the pattern cards and the retrieved
  code's names and lines — true whatever the model;
* the model adds a short note after each section's facts (a base model: a
  document completion; a chat model: a chat turn through its own template);
  every sentence of it is checked (``citations.Vocabulary``) and dropped if it
  names an identifier, a path or a ``path:line`` that the sources lack;
* finally every ``path:line`` of the answer is checked against the sources
  given to the model, and unbacked ones are removed.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mentor_local.answer.citations import SourceRange, Vocabulary, check_citations, split_sentences
from mentor_local.answer.compose import CardFacts, Facts, compose_sections
from mentor_local.answer.prompting import (
    SECTION_STOPS,
    Budget,
    Candidates,
    Packed,
    chat_messages,
    document_section_prompt,
    load_prompt,
    pack,
    render_profile,
)
from mentor_local.domain import SECTION_NAMES, Answer, Finding, Hit, RepoProfile
from mentor_local.settings import Settings

_LIBC: Any = None


def _release_free_heap() -> None:
    """Collect the answer's garbage and hand the freed heap back to the OS (glibc ``malloc_trim``).

    llama.cpp and the tokenizers free megabytes per answer that glibc would otherwise keep in its arenas;
    elsewhere (macOS, musl) this is a no-op.
    """
    global _LIBC
    import gc

    gc.collect()  # cycles from the answer's objects first, so their memory is free to hand back
    if _LIBC is None:
        import ctypes
        import ctypes.util

        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC = lib if hasattr(lib, "malloc_trim") else False
        except OSError:
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)

_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
_SENTENCE_DONE = re.compile(r"[.!?][)\"'`*]*\s|\n")
_LIST_MARK = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
NOTE_PREFIX = "_Mentor's note:_ "


@dataclass(frozen=True)
class _Turn:
    question: str
    blocks: list[Candidates]


def _clean(sentence: str) -> str:
    """One sentence of model text without list markers or bold markers around it."""
    s = _LIST_MARK.sub("", sentence.strip())
    if s.startswith("**") and s.count("**") == 2 and s.endswith("**"):
        s = s[2:-2]
    return s.strip()


def _estimate_tokens(text: str) -> int:
    return int(len(text.encode("utf-8")) / 2.5) + 1


class Mentor:
    """Answers questions about one indexed repo; the model is loaded once and reused.

    ``settings`` may be a ``Settings`` (``settings=``) and/or field overrides
    (``n_ctx=2048``, ``gpu_layers="0"``, ``llm_url=...``).  ``chat_model``
    injects a backend (tests, the TUI); otherwise it is built on first use.
    Extra knobs: ``code_k`` and ``card_k`` (retrieval quotas), ``section_tokens``
    (the model's room per section), ``use_model`` (False: facts only),
    ``llm_mode`` (``auto``/``completion``/``chat`` for ``llm_url``),
    ``temperature``, ``cards`` (a card list instead of ``knowledge/``),
    ``reviewer``/``profiler`` (callables instead of ``analysis``).
    """

    def __init__(self, index: Any, model_path: str | Path | None = None, *, chat_model: Any = None,
                 settings: Settings | None = None, **options: Any) -> None:
        names = {f.name for f in dataclasses.fields(Settings)}
        base = settings or Settings()
        self.settings = base.replace(**{k: v for k, v in options.items() if k in names})
        extra = {k: v for k, v in options.items() if k not in names}
        self.code_k = int(extra.pop("code_k", 6))
        self.card_k = int(extra.pop("card_k", 4))
        self.section_tokens = int(extra.pop("section_tokens", 48))
        self.use_model = bool(extra.pop("use_model", True))
        self.llm_mode = str(extra.pop("llm_mode", "auto"))
        self.temperature = float(extra.pop("temperature", 0.2))
        self._cards_override: list[Any] | None = extra.pop("cards", None)
        self._reviewer = extra.pop("reviewer", None)
        self._profiler = extra.pop("profiler", None)
        if extra:
            raise TypeError(f"Mentor got unknown options: {', '.join(sorted(extra))}")
        self.index = index
        self.model_path = model_path
        self._backend = chat_model
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._profile: RepoProfile | None = None
        self._profile_done = False
        self._findings: list[Finding] | None = None
        self._cards: dict[str, CardFacts] | None = None
        self._last: _Turn | None = None
        self.last_trace: list[dict[str, Any]] = []  # prompts of the last answer, for benchmarks and debugging

    # -- model --------------------------------------------------------------------------------
    @property
    def backend(self) -> Any:
        """The chat model, built once (loading a GGUF takes a moment)."""
        if self._backend is None:
            s = self.settings
            if s.llm_url:
                from mentor_local.answer.backends.openai_http import OpenAIHTTPBackend

                self._backend = OpenAIHTTPBackend(s.llm_url, n_ctx=s.n_ctx, mode=self.llm_mode,
                                                  temperature=self.temperature)
            else:
                from mentor_local.answer.backends.llama import LlamaBackend
                from mentor_local.models import BUNDLED_NAME, resolve_model

                path = resolve_model(self.model_path or s.model)
                self._backend = LlamaBackend(path, n_ctx=s.n_ctx, gpu_layers=s.gpu_layers, threads=s.threads,
                                             probe=path.name != BUNDLED_NAME, temperature=self.temperature)
        return self._backend

    @property
    def chat_model(self) -> Any:
        """The backend once built (``None`` before): the TUI hands it to the next Mentor after a re-index."""
        return self._backend

    def load(self) -> Mentor:
        """Load the model now (the TUI calls this in a worker so the first question starts fast)."""
        _ = self.backend
        return self

    def model_info(self) -> dict[str, Any]:
        b = self._backend
        info = dict(b.info()) if b is not None and hasattr(b, "info") else {}
        info.setdefault("path", str(self.model_path or self.settings.model or ""))
        info.setdefault("chat_template", bool(getattr(b, "chat_template", False)))
        info.setdefault("n_ctx", int(getattr(b, "n_ctx", self.settings.n_ctx)))
        info.setdefault("gpu_layers", getattr(b, "gpu_layers", self.settings.gpu_layers))
        return info

    def _count(self, text: str) -> int:
        fn = getattr(self._backend, "count_tokens", None)
        return int(fn(text)) if fn is not None else _estimate_tokens(text)

    def cancel(self) -> None:
        """Stop the answer being written; takes effect before the next token is shown."""
        self._cancel.set()

    @property
    def cancel_event(self) -> threading.Event:
        return self._cancel

    # -- grounding ----------------------------------------------------------------------------
    def repo_profile(self) -> RepoProfile | None:
        if not self._profile_done:
            self._profile_done = True
            try:
                if self._profiler is not None:
                    self._profile = self._profiler(self.index.repo)
                else:
                    from mentor_local.analysis.profile import profile

                    self._profile = profile(self.index.repo)
            except ImportError:
                self._profile = None
        return self._profile

    def repo_findings(self) -> list[Finding]:
        if self._findings is None:
            try:
                if self._reviewer is not None:
                    self._findings = list(self._reviewer(self.index.repo))
                else:
                    from mentor_local.analysis.review import review

                    self._findings = list(review(self.index.repo))
            except ImportError:
                self._findings = []
        return self._findings

    def card_library(self) -> dict[str, CardFacts]:
        if self._cards is None:
            if self._cards_override is not None:
                cards = self._cards_override
            else:
                from mentor_local.knowledge import load_cards

                cards = load_cards()
            self._cards = {c.id: CardFacts.from_card(c) for c in cards}
        return self._cards

    def _candidates(self, question: str) -> tuple[Candidates, list[Hit]]:
        code = [h for h in self.index.search(question, k=self.code_k, source="code") if h.source == "code"]
        card_hits = [h for h in self.index.search(question, k=self.card_k, source="knowledge") if h.source != "code"]
        library = self.card_library()
        cards: list[CardFacts] = []
        for h in card_hits:
            cid = str(h.metadata.get("card_id") or Path(h.path).stem)
            card = library.get(cid)
            if card is not None and card.id not in {c.id for c in cards}:
                cards.append(card)
        files = {h.path for h in code}
        every = sorted(self.repo_findings(), key=lambda f: (_SEVERITY_RANK.get(f.severity, 3), f.path, f.line))
        findings = [f for f in every if f.path in files]
        if len(findings) < 3:  # few in the retrieved files: add the repo's most severe ones
            findings += [f for f in every if f.path not in files and f.severity == "high"][: 3 - len(findings)]
        for f in findings:  # a finding's card teaches its fix: offer it after the retrieved ones
            card = library.get(f.card or "")
            if card is not None and card.id not in {c.id for c in cards} and len(cards) < self.card_k + 2:
                cards.append(card)
        return Candidates(code=code, cards=cards, findings=findings), card_hits

    def _blocks(self, question: str, history: Sequence[tuple[str, str]]) -> tuple[list[Candidates], list[Hit]]:
        fresh, card_hits = self._candidates(question)
        last = self._last
        if history and last is not None and history[-1][0] == last.question:
            # A follow-up keeps the previous turn's material first: the prompt then shares its whole
            # prefix with the previous one and llama.cpp re-reads only the new part.
            seen_code = {(h.path, h.start_line) for b in last.blocks for h in b.code}
            seen_cards = {c.id for b in last.blocks for c in b.cards}
            seen_findings = {(f.path, f.line, f.rule) for b in last.blocks for f in b.findings}
            new = Candidates(
                code=[h for h in fresh.code if (h.path, h.start_line) not in seen_code],
                cards=[c for c in fresh.cards if c.id not in seen_cards],
                findings=[f for f in fresh.findings if (f.path, f.line, f.rule) not in seen_findings],
            )
            return [*last.blocks, new], card_hits
        return [fresh], card_hits

    # -- answering ----------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Answer:
        answer: Answer | None = None
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[str | Answer]:
        """Yield text as it is made (headings, facts, checked notes), then the ``Answer``."""
        with self._lock:
            self._cancel.clear()
            backend = self.backend if self.use_model else None
            yield from self._stream(question, list(history), backend)

    def _stream(self, question: str, history: list[tuple[str, str]], backend: Any) -> Iterator[str | Answer]:
        t0 = time.perf_counter()
        blocks, card_hits = self._blocks(question, history)
        profile = self.repo_profile()
        retrieval_ms = (time.perf_counter() - t0) * 1000

        chat = bool(backend is not None and getattr(backend, "chat_template", False) and hasattr(backend, "chat"))
        n_ctx = int(getattr(backend, "n_ctx", self.settings.n_ctx) or self.settings.n_ctx)
        section_tokens = self.section_tokens * (3 if chat else 1)
        budget = Budget.for_context(n_ctx, section_tokens)
        if chat:  # the chat template and the per-section request add tokens the document layout lacks
            budget = dataclasses.replace(budget, margin=budget.margin + 48 + self._count(load_prompt("chat_section")))
        packed = pack(question=question, profile=profile, blocks=blocks, history=history, budget=budget,
                      count=self._count, persona=load_prompt("chat_system") if chat else None)
        facts = packed.facts
        library = self.card_library()
        composed = compose_sections(facts, library)
        ranges = self._source_ranges(packed)
        vocab = self._vocabulary(packed, profile)

        sections: dict[str, str] = {}
        stats = {"ttft_s": None, "completion_tokens": 0, "decode_s": 0.0, "decode_tokens": 0, "prompt_tokens": 0}
        self.last_trace = []
        cancelled = False
        for i, name in enumerate(SECTION_NAMES):
            head = ("\n\n" if i else "") + f"### {name}\n\n"
            body = composed[name]
            if not cancelled:
                yield head + body
            note = ""
            if backend is not None and not cancelled:
                note_pieces: list[str] = []
                for piece in self._note(backend, chat, packed, name, body, budget, vocab, stats, t0):
                    if self._cancel.is_set():
                        break
                    note_pieces.append(piece)
                    yield ("\n\n" + NOTE_PREFIX if len(note_pieces) == 1 else " ") + piece
                note = " ".join(note_pieces)
                cancelled = self._cancel.is_set()
            sections[name] = body + (f"\n\n{NOTE_PREFIX}{note}" if note else "")

        text = "\n\n".join(f"### {n}\n\n{sections[n]}" for n in SECTION_NAMES)
        text, citations = check_citations(text, ranges)
        sections = {n: check_citations(sections[n], ranges)[0] for n in SECTION_NAMES}
        total = time.perf_counter() - t0
        decode_s = float(stats["decode_s"] or 0.0)
        timings = {
            "retrieval_ms": round(retrieval_ms, 1),
            "prompt_tokens": int(stats["prompt_tokens"] or packed.prefix_tokens),
            "ttft_s": None if stats["ttft_s"] is None else round(float(stats["ttft_s"]), 4),
            "completion_tokens": int(stats["completion_tokens"] or 0),
            "decode_tokens_per_s": round(float(stats["decode_tokens"] or 0) / decode_s, 2) if decode_s > 0 else None,
            "total_s": round(total, 3),
            "decode_s": round(decode_s, 4),
            "decode_tokens": int(stats["decode_tokens"] or 0),
            "cancelled": cancelled,
            "sources_dropped": packed.dropped,
        }
        sources = list(facts.code) + self._card_sources(packed, card_hits)
        yield Answer(question=question, answer=text, sections=sections, sources=sources, findings=list(facts.findings),
                     citations=citations, model=self.model_info(), timings=timings)
        self._last = _Turn(question=question, blocks=[
            Candidates(code=b.code, cards=b.cards, findings=b.findings) for b in packed.blocks])
        _release_free_heap()

    def _note(self, backend: Any, chat: bool, packed: Packed, name: str, body: str, budget: Budget,
              vocab: Vocabulary, stats: dict[str, Any], t0: float) -> Iterator[str]:
        """The model's checked note for one section, a sentence at a time."""
        if chat:
            messages = chat_messages(packed, name, body, budget, self._count)
            self.last_trace.append({"section": name, "messages": messages, "max_tokens": budget.section_tokens})
            pieces = backend.chat(messages, max_tokens=budget.section_tokens, stop=["###"])
        else:
            prompt = document_section_prompt(packed, name, body, budget, self._count)
            self.last_trace.append({"section": name, "prompt": prompt, "max_tokens": budget.section_tokens,
                                    "stop": list(SECTION_STOPS)})
            if not stats["prompt_tokens"]:
                stats["prompt_tokens"] = self._count(prompt)
            pieces = backend.complete(prompt, max_tokens=budget.section_tokens, stop=SECTION_STOPS)
        buffer = ""
        first = last = None
        n = 0
        try:
            for piece in pieces:
                now = time.perf_counter()
                if first is None:
                    first = now
                    if stats["ttft_s"] is None:
                        stats["ttft_s"] = now - t0
                last = now
                n += 1
                buffer += piece
                if self._cancel.is_set():
                    return
                # Whole sentences only: each is checked before anyone sees it.
                while (m := _SENTENCE_DONE.search(buffer)) is not None:
                    sentence, buffer = _clean(buffer[: m.end()]), buffer[m.end():]
                    if self._keep(sentence, vocab, body, anchored=not chat):
                        yield sentence
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
            stats["completion_tokens"] += n
            if first is not None and last is not None and n > 1:
                stats["decode_s"] += last - first
                stats["decode_tokens"] += n - 1
        tail = _clean(buffer)
        if tail and tail[-1] in ".!?" and self._keep(tail, vocab, body, anchored=not chat):
            yield tail

    @staticmethod
    def _keep(sentence: str, vocab: Vocabulary, facts: str, *, anchored: bool = False) -> bool:
        """A sentence is shown if it is prose, new, names nothing unbacked and (``anchored``) names the code."""
        words = sentence.split()
        if not 4 <= len(words) <= 60:
            return False
        if sum(ch.isalpha() for ch in sentence) < len(sentence) * 0.6:
            return False  # code, tables or symbol soup, not a sentence
        if sentence.lower() in facts.lower():
            return False  # a copy of the facts adds nothing
        if anchored and not vocab.mentions_source(sentence):
            return False  # a base model's generic sentence ("the backend is slow") is noise, not advice
        return len(split_sentences(sentence)) >= 1 and vocab.sentence_ok(sentence)

    # -- checking -----------------------------------------------------------------------------
    @staticmethod
    def _source_ranges(packed: Packed) -> list[SourceRange]:
        ranges = [SourceRange(h.path, h.start_line, h.end_line) for h in packed.facts.code]
        ranges += [SourceRange(f.path, f.line, max(f.line, f.end_line)) for f in packed.facts.findings]
        return ranges

    @staticmethod
    def _vocabulary(packed: Packed, profile: RepoProfile | None) -> Vocabulary:
        facts: Facts = packed.facts
        texts = [h.text for h in facts.code]
        texts += [c.title + "\n" + "\n".join(c.sections.values()) for c in facts.cards]
        texts += [f.message + " " + f.topic + " " + f.rule for f in facts.findings]
        texts.append(render_profile(profile))
        paths = [h.path for h in facts.code] + [f.path for f in facts.findings]
        names = [n for h in facts.code for n in (h.qualname, h.symbol) if n]
        return Vocabulary.build(texts, paths, Mentor._source_ranges(packed), names)

    @staticmethod
    def _card_sources(packed: Packed, card_hits: list[Hit]) -> list[Hit]:
        shown = {c.id for c in packed.facts.cards}
        out: list[Hit] = []
        seen: set[tuple[str, int]] = set()
        for h in card_hits:
            cid = str(h.metadata.get("card_id") or Path(h.path).stem)
            if cid in shown and (h.path, h.start_line) not in seen:
                seen.add((h.path, h.start_line))
                out.append(h)
        return out
