"""The mentor: retrieve, select, prompt, stream, check — one grounded generation per question.

Which parts of an answer come from where:

* the tool owns what it knows exactly: the six headings in order, the code it read (named with
  ``path:line`` before the model starts, so facts are on screen at once), the review findings in
  that code with their lines, the pattern cards' ids, and the facts that fill a section the model
  left empty;
* the model (an instruction-tuned coder model, through its chat template) explains the user's
  code for the question, in the six sections, in one streamed generation;
* every sentence the model writes is checked before it is shown (``checks.SentenceCheck``):
  citations outside the code shown, identifiers in none of the sources, a card's advice claimed
  of the repo, and absence claims about code seen only in part are dropped, and counted.

A follow-up reuses the previous turn's messages verbatim (the model's own reply included), so the
model's prefix cache holds everything but the follow-up's new question and code.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Unpack

from mentor_local.answer.checks import Grounds, SentenceCheck
from mentor_local.answer.citations import SourceRange, check_citations
from mentor_local.answer.compose import (
    CardFacts,
    CardLike,
    Facts,
)
from mentor_local.answer.excerpts import estimate_tokens
from mentor_local.answer.material import card_sources, cards_for, code_excerpts, findings_in
from mentor_local.answer.prompting import (
    Material,
    Turn,
    build_messages,
    fit_material,
    render_card,
    render_finding,
    render_profile,
    render_user,
    system_prompt,
    truncate_tokens,
)
from mentor_local.answer.sections import SectionStream
from mentor_local.answer.tool_text import read_line, section_extras, section_fill
from mentor_local.domain import SECTION_NAMES, Answer, Finding, RepoProfile
from mentor_local.errors import ModelError
from mentor_local.protocols import ChatModel, PrefixPrimer, Searchable, no_tokens
from mentor_local.settings import Settings, SettingsChanges

_LIBC: ctypes.CDLL | bool | None = None


def _release_free_heap() -> None:
    """Collect the answer's garbage and hand the freed heap back to the OS (glibc ``malloc_trim``).

    llama.cpp and the tokenizers free megabytes per answer that glibc would otherwise keep in its arenas;
    elsewhere (macOS, musl) this is a no-op.
    """
    global _LIBC
    import gc

    gc.collect()  # cycles from the answer's objects first, so their memory is free to hand back
    if _LIBC is None:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC = lib if hasattr(lib, "malloc_trim") else False
        except OSError:
            _LIBC = False
    if isinstance(_LIBC, ctypes.CDLL):
        _LIBC.malloc_trim(0)


class Mentor:
    """Answers questions about one indexed repo; the model is loaded once and reused.

    ``settings`` is the base ``Settings`` and ``overrides`` change fields of it (``n_ctx=2048``,
    ``gpu_layers="0"``, ``llm_url=...``, ``max_tokens=...``).  ``chat_model`` injects a backend (tests,
    the TUI after a re-index); else ``chat_model_factory`` builds one on first use, and without either
    ``wiring.make_chat_model`` chooses it from the settings.
    Knobs: ``code_k`` and ``card_k`` (retrieval quotas), ``code_tokens`` (the code excerpts'
    room), ``user_tokens`` (a question's whole message), ``follow_up_tokens`` (a follow-up's),
    ``use_model`` (False: facts only), ``llm_mode`` (``auto``/``chat`` for ``llm_url``),
    ``temperature``, ``cards`` (a card list instead of ``knowledge/``), ``reviewer``/``profiler``
    (callables instead of ``analysis``).
    """

    def __init__(self, index: Searchable | None, model_path: str | Path | None = None, *,
                 chat_model: ChatModel | None = None, chat_model_factory: Callable[[], ChatModel] | None = None,
                 settings: Settings | None = None, code_k: int = 6, card_k: int = 3, code_tokens: int = 800,
                 user_tokens: int = 1050, follow_up_tokens: int = 300, use_model: bool = True,
                 llm_mode: str = "auto", temperature: float = 0.2, cards: Sequence[CardLike] | None = None,
                 reviewer: Callable[[Path], Iterable[Finding]] | None = None,
                 profiler: Callable[[Path], RepoProfile | None] | None = None,
                 **overrides: Unpack[SettingsChanges]) -> None:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(Settings)}
        if unknown:
            raise TypeError(f"Mentor got unknown options: {', '.join(sorted(unknown))}")
        self.settings = (settings or Settings()).replace(**overrides)
        self.code_k = int(code_k)
        self.card_k = int(card_k)
        self.code_tokens = int(code_tokens)
        self.user_tokens = int(user_tokens)
        self.follow_up_tokens = int(follow_up_tokens)
        self.use_model = bool(use_model)
        self.llm_mode = str(llm_mode)
        self.temperature = float(temperature)
        self._cards_override = list(cards) if cards is not None else None
        self._reviewer = reviewer
        self._profiler = profiler
        if self.llm_mode == "completion":
            from mentor_local.errors import ConfigError

            raise ConfigError("--llm-mode completion (a base model) is no longer supported",
                              hint="serve an instruction-tuned model with a chat template and use --llm-mode chat")
        self.index = index
        self.model_path = model_path
        self._backend = chat_model
        self._factory = chat_model_factory or self._wired_chat_model
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._profile: RepoProfile | None = None
        self._profile_done = False
        self._findings: list[Finding] | None = None
        self._cards: dict[str, CardFacts] | None = None
        self._turns: list[Turn] = []
        self._primed: str | None = None
        self.primed: tuple[str, float] | None = None
        """How ``warm`` put the persona in the model's cache: ``("disk" | "read", seconds)``."""
        self._checked = False
        self.last_trace: list[dict[str, object]] = []  # the messages of the last answer, for benchmarks and debugging

    # -- model --------------------------------------------------------------------------------
    def _wired_chat_model(self) -> ChatModel:
        """The default factory: ``wiring`` chooses the backend (a model server, else the local model)."""
        from mentor_local.wiring import make_chat_model

        return make_chat_model(self.settings, self.model_path, llm_mode=self.llm_mode, temperature=self.temperature)

    @property
    def backend(self) -> ChatModel:
        """The chat model, built once (loading a GGUF takes a moment)."""
        if self._backend is None:
            self._backend = self._factory()
        return self._backend

    def _check_template(self, backend: ChatModel) -> None:
        """The mentor needs an instruct model; asked at the first question (a model may still be loading before)."""
        if not self._checked:
            if not backend.chat_template:
                raise ModelError(f"{self.model_info()['path']} has no chat template: the mentor needs an "
                                 "instruction-tuned model", hint="use the bundled model (--model default or small)")
            self._checked = True

    @property
    def chat_model(self) -> ChatModel | None:
        """The backend once built (``None`` before): the TUI hands it to the next Mentor after a re-index."""
        return self._backend

    def load(self) -> Mentor:
        """Load the model now (the TUI calls this in a worker so the first question starts fast)."""
        _ = self.backend
        return self

    def warm(self) -> Mentor:
        """Everything before the first Enter: model, review, profile, cards, and the persona in the model's cache."""
        self.load()
        if self.index is None:
            return self
        self.repo_findings()
        self.card_library()
        system = system_prompt(self.repo_profile())
        with self._lock:
            if self.use_model and self._primed != system:
                self._check_template(self.backend)
                # The persona and profile open every question's prompt: evaluating them now means a question
                # pays only for its own tokens. One token is generated and thrown away. A local model keeps
                # that state on disk, so the next process (a one-shot ``mentor ask``) loads it instead.
                messages = [{"role": "system", "content": system}, {"role": "user", "content": "Hi"}]
                t = time.perf_counter()
                backend = self.backend
                if isinstance(backend, PrefixPrimer):
                    loaded = backend.prime(messages, str(self.prompt_cache_dir()))
                    self.primed = ("disk" if loaded else "read", time.perf_counter() - t)
                else:
                    for _ in backend.chat(messages, max_tokens=1):
                        pass
                    self.primed = ("read", time.perf_counter() - t)
                self._primed = system
        return self

    def prompt_cache_dir(self) -> Path:
        """Where a local model keeps the persona's evaluated state between processes."""
        from mentor_local.paths import app_home

        return app_home(self.settings.home) / "prompt-cache"

    def model_info(self) -> dict[str, object]:
        """``Answer.model``: what the backend tells, else what the settings say (no model built yet)."""
        b = self._backend
        info = dict(b.info()) if b is not None else {}
        info.setdefault("path", str(self.model_path or self.settings.model or ""))
        info.setdefault("chat_template", b.chat_template if b is not None else False)
        info.setdefault("n_ctx", b.n_ctx if b is not None else self.settings.n_ctx)
        info.setdefault("gpu_layers", self.settings.gpu_layers)
        return info

    def _count(self, text: str) -> int:
        return self._backend.count_tokens(text) if self._backend is not None else estimate_tokens(text)

    def _n_ctx(self, backend: ChatModel) -> int:
        return backend.n_ctx or self.settings.n_ctx

    def cancel(self) -> None:
        """Stop the answer being written; takes effect before the next token is shown."""
        self._cancel.set()

    @property
    def cancel_event(self) -> threading.Event:
        return self._cancel

    # -- grounding ----------------------------------------------------------------------------
    def _searchable(self) -> Searchable:
        if self.index is None:
            raise RuntimeError("this Mentor has no index yet: set mentor.index before asking")
        return self.index

    def repo_profile(self) -> RepoProfile | None:
        if not self._profile_done:
            self._profile_done = True
            repo = self._searchable().repo
            try:
                if self._profiler is not None:
                    self._profile = self._profiler(repo)
                else:
                    from mentor_local.analysis.profile import profile

                    self._profile = profile(repo)
            except ImportError:
                self._profile = None
        return self._profile

    def repo_findings(self) -> list[Finding]:
        if self._findings is None:
            repo = self._searchable().repo
            try:
                if self._reviewer is not None:
                    self._findings = list(self._reviewer(repo))
                else:
                    from mentor_local.analysis.review import review

                    self._findings = list(review(repo))
            except ImportError:
                self._findings = []
        return self._findings

    def card_library(self) -> dict[str, CardFacts]:
        if self._cards is None:
            cards: Sequence[CardLike]
            if self._cards_override is not None:
                cards = self._cards_override
            else:
                from mentor_local.knowledge import load_cards

                cards = load_cards()
            self._cards = {c.id: CardFacts.from_card(c) for c in cards}
        return self._cards

    # -- answering ----------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Answer:
        answer: Answer | None = None
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[str | Answer]:
        """Yield text as it is made (headings, facts, checked sentences), then the ``Answer``."""
        with self._lock:
            self._cancel.clear()
            backend = self.backend if self.use_model else None
            if backend is not None:
                self._check_template(backend)
            yield from self._stream(question, list(history), backend)

    def _turns_for(self, history: list[tuple[str, str]]) -> tuple[list[Turn], list[tuple[str, str]]]:
        """The turns the model saw (reused verbatim) and, for any it did not, their gist."""
        if not history:
            return [], []
        n = len(self._turns)
        if n and len(history) >= n and [q for q, _ in history[-n:]] == [t.material.question for t in self._turns]:
            return list(self._turns), []
        return [], history[-2:]

    def _stream(self, question: str, history: list[tuple[str, str]],
                backend: ChatModel | None) -> Iterator[str | Answer]:
        t0 = time.perf_counter()
        question = " ".join(question.split()) or "(empty question)"
        if len(question) > 600:  # a pasted wall of text: its start says what is asked; the index sees it all
            question = question[:600].rsplit(" ", 1)[0] + " …"
        turns, earlier = self._turns_for(history)
        follow_up = bool(turns)
        shown = {(ex.path, ex.hit.start_line) for t in turns for ex in t.material.excerpts}
        index = self._searchable()
        code_hits = [h for h in index.search(question, k=self.code_k, source="code") if h.source == "code"]
        card_hits = [h for h in index.search(question, k=self.card_k, source="knowledge") if h.source != "code"]
        room = self.follow_up_tokens if follow_up else self.user_tokens
        code_room = min(self.code_tokens, room - (150 if follow_up else 300))  # the rest: question, findings, cards
        excerpts = code_excerpts(index, question, code_hits, shown, code_room)
        findings = findings_in(self.repo_findings(), excerpts, question)
        seen_cards = {c.id for t in turns for c in t.material.cards}
        cards = cards_for(self.card_library(), card_hits, findings, seen_cards)
        opened = {(ex.path, ex.hit.start_line) for ex in excerpts} | shown
        others = [h for h in code_hits if (h.path, h.start_line) not in opened][:4]
        material = fit_material(Material(question, excerpts, findings, cards, others), room, follow_up=follow_up)
        profile = self.repo_profile()
        retrieval_ms = (time.perf_counter() - t0) * 1000

        every = [t.material for t in turns] + [material]
        all_excerpts = [ex for m in every for ex in m.excerpts]
        all_findings = [f for m in every for f in m.findings]
        all_cards = [c for m in every for c in m.cards]
        ranges = [SourceRange(ex.path, ex.start_line, ex.end_line) for ex in all_excerpts]
        ranges += [SourceRange(h.path, h.start_line, h.end_line) for m in every for h in m.others]
        ranges += [SourceRange(f.path, f.line, max(f.line, f.end_line)) for f in all_findings]
        partial: dict[str, bool] = {}
        for ex in all_excerpts:
            for key in {ex.path, ex.hit.symbol, ex.hit.qualname, ex.hit.symbol.rsplit(".", 1)[-1]} - {""}:
                partial[key] = partial.get(key, False) or ex.partial
        grounds = Grounds.build(
            code_texts=[ex.text for ex in all_excerpts],
            card_texts=[render_card(c) for c in all_cards],
            other_texts=[render_profile(profile), question, *(render_finding(f) for f in all_findings),
                         *(q for q, _ in history)],
            paths=[ex.path for ex in all_excerpts] + [f.path for f in all_findings] + [h.path for m in every for h in m.others],
            ranges=ranges, names=[n for ex in all_excerpts for n in (ex.hit.qualname, ex.hit.symbol) if n]
            + [n for m in every for h in m.others for n in (h.qualname, h.symbol) if n],
            partial=partial)
        check = SentenceCheck(grounds)
        facts = Facts(question=question, profile=profile,
                      code=[dataclasses.replace(ex.hit, start_line=ex.start_line, end_line=ex.end_line, text=ex.text)
                            for ex in material.excerpts],
                      cards=material.cards, findings=material.findings)
        out = SectionStream(check, fill=lambda i: section_fill(i, facts), extras=lambda i: section_extras(i, material),
                            started=False)
        yield out.start_section(0, read_line(material))

        ttft_s: float | None = None
        n_tokens = prompt_tokens = 0
        decode_s = 0.0
        reply = ""
        user = render_user(material, follow_up=follow_up, earlier=earlier)
        cancelled = False
        self.last_trace = []
        if backend is not None:
            system = system_prompt(profile)
            turns = self._fit_turns(system, turns, user, backend)
            messages = build_messages(system, turns, user)
            prompt_tokens = sum(self._count(m["content"]) + 4 for m in messages)
            n_ctx = self._n_ctx(backend)
            max_tokens = min(self.settings.max_tokens, n_ctx - prompt_tokens - 16)
            if max_tokens < 64:  # a tiny window: the code excerpts give way so the model has room to answer
                user = truncate_tokens(user, max(32, n_ctx - self._count(system) - 64 - 128), self._count)
                messages = build_messages(system, [], user)
                prompt_tokens = sum(self._count(m["content"]) + 4 for m in messages)
                max_tokens = max(0, min(self.settings.max_tokens, n_ctx - prompt_tokens - 16))
            self.last_trace.append({"messages": messages, "max_tokens": max_tokens})
            pieces = backend.chat(messages, max_tokens=max_tokens) if max_tokens > 0 else no_tokens()
            first: float | None = None
            last: float | None = None
            try:
                for piece in pieces:
                    now = time.perf_counter()
                    if first is None:
                        first = now
                        ttft_s = now - t0
                    last = now
                    n_tokens += 1
                    reply += piece
                    if self._cancel.is_set():
                        cancelled = True
                        break
                    shown_text = out.feed(piece)
                    if shown_text:
                        yield shown_text
            finally:
                pieces.close()
            if first is not None and last is not None and n_tokens > 1:
                decode_s = last - first
        else:  # no model: what it would have been given, so a benchmark can count it
            self.last_trace.append({"messages": build_messages(system_prompt(profile), turns, user), "max_tokens": 0})
        if not cancelled:
            tail = out.finish()
            if tail:
                yield tail
        sections = {name: out.texts[i].strip() for i, name in enumerate(SECTION_NAMES)}
        text = "\n\n".join(f"### {n}\n\n{sections[n]}" for n in SECTION_NAMES)
        text, citations = check_citations(text, ranges)
        sections = {n: check_citations(sections[n], ranges)[0] for n in SECTION_NAMES}
        total = time.perf_counter() - t0
        timings = {
            "retrieval_ms": round(retrieval_ms, 1),
            "prompt_tokens": prompt_tokens,
            "ttft_s": None if ttft_s is None else round(ttft_s, 4),
            "completion_tokens": n_tokens,
            "decode_tokens_per_s": round((n_tokens - 1) / decode_s, 2) if decode_s > 0 else None,
            "total_s": round(total, 3),
            "decode_s": round(decode_s, 4),
            "decode_tokens": max(0, n_tokens - 1),
            "cancelled": cancelled,
            "follow_up": follow_up,
        }
        checks = {
            "kept": check.stats.kept, "dropped": check.stats.dropped_total,
            "dropped_by_reason": {k: v for k, v in check.stats.dropped.items() if v},
            "dropped_examples": [list(e) for e in check.stats.examples],
            "filled": list(out.filled), "model_text": "\n".join(out.model_texts),
            "partial_excerpts": sum(ex.partial for ex in material.excerpts),
        }
        sources = [dataclasses.replace(ex.hit, start_line=ex.start_line, end_line=ex.end_line, text=ex.text)
                   for ex in all_excerpts]
        sources += [dataclasses.replace(h, text="") for m in every for h in m.others]  # named to the model, not shown
        sources += card_sources(card_hits, material.cards)
        yield Answer(question=question, answer=text, sections=sections, sources=sources,
                     findings=list(material.findings), citations=citations, model=self.model_info(),
                     timings=timings, checks=checks)
        if not cancelled and backend is not None:
            self._turns = [*turns, Turn(user=user, reply=reply, material=material)]
        _release_free_heap()

    def _fit_turns(self, system: str, turns: list[Turn], user: str, backend: ChatModel) -> list[Turn]:
        """Oldest turns leave first when the conversation would not fit the window with room to answer."""
        n_ctx = self._n_ctx(backend)
        room = n_ctx - self.settings.max_tokens - 64
        while turns:
            size = self._count(system) + self._count(user) + sum(
                self._count(t.user) + self._count(t.reply) + 10 for t in turns)
            if size <= room:
                break
            turns = turns[1:]
        return turns
