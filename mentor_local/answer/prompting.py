"""Prompt assembly (pure): what the model sees, packed into its context window.

Layout, chosen for KV-cache reuse (llama.cpp keeps the longest common token
prefix between calls, so what stays the same goes first)::

    persona + instructions        same for every question
    repository profile            same for every question on this repo
    context block 1               cards (by id), code (by path), findings
    context block 2 ...           new material of a follow-up question
    earlier turns                 the conversation, newest kept
    question
    answer so far: ### <section>\n<facts>\n<lead>   one short completion per section

Every piece is measured with the model's own tokenizer (``count``) and the
whole prefix is kept under ``Budget.prefix_limit`` so that prefix + a section's
facts + the section's completion always fit ``n_ctx``: material is truncated
or the lowest-ranked dropped; packing never fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from mentor_local.answer.compose import CardFacts, Facts, cite, first_sentences, name_of
from mentor_local.domain import Finding, Hit, RepoProfile

TokenCounter = Callable[[str], int]
ANSWER_HEADER = "\n## Answer\n"
DOCUMENT_LEAD = "Advice:"
ELLIPSIS = " …"


@cache
def load_prompt(name: str) -> str:
    return resources.files("mentor_local.answer").joinpath("prompts", f"{name}.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Budget:
    """How ``n_ctx`` is shared: prefix, one section's facts, one section's completion."""

    n_ctx: int = 4096
    section_tokens: int = 64
    facts_tokens: int = 320
    margin: int = 24  # BOS, template tokens and tokenizer merges at the seams
    first_turn_share: float = 0.72  # a cold question leaves room for a follow-up's history and new sources
    follow_up_share: float = 0.18  # a follow-up's new material: small, so its time to first token stays short

    @property
    def prefix_limit(self) -> int:
        return max(64, self.n_ctx - self.section_tokens - self.facts_tokens - self.margin)

    @classmethod
    def for_context(cls, n_ctx: int, section_tokens: int) -> Budget:
        """Shrinks the facts allowance for small windows so the prefix keeps at least half."""
        section_tokens = max(8, min(section_tokens, n_ctx // 8))
        facts = max(32, min(320, n_ctx // 8))
        return cls(n_ctx=n_ctx, section_tokens=section_tokens, facts_tokens=facts, margin=min(24, max(8, n_ctx // 64)))


def truncate_tokens(text: str, limit: int, count: TokenCounter) -> str:
    """The longest prefix of ``text`` (cut at a line or word edge) within ``limit`` tokens."""
    if limit <= 0:
        return ""
    if count(text) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on characters: O(log n) tokenizer calls
        mid = (lo + hi + 1) // 2
        if count(text[:mid] + ELLIPSIS) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    edge = max(cut.rfind("\n"), cut.rfind(" "))
    if edge > len(cut) // 2:
        cut = cut[:edge]
    return (cut.rstrip() + ELLIPSIS) if cut.strip() else ""


def truncate_code(hit: Hit, limit: int, count: TokenCounter) -> Hit | None:
    """Whole lines of a hit within ``limit`` tokens; the hit's end line shrinks to what is shown."""
    lines = hit.text.splitlines()
    if not lines:
        return None
    header = count(code_header(hit)) + 8
    if header + count(hit.text) <= limit:
        return hit
    keep: list[str] = []
    used = header
    for line in lines:
        cost = count(line + "\n")
        if used + cost > limit:
            break
        keep.append(line)
        used += cost
    if not keep:
        return None
    end = min(hit.end_line, hit.start_line + len(keep) - 1)
    return dataclasses.replace(hit, end_line=end, text="\n".join(keep))


def code_header(hit: Hit) -> str:
    return f"#### {cite(hit)} — {hit.kind} `{name_of(hit)}`"


def render_code(hit: Hit) -> str:
    return f"{code_header(hit)}\n```python\n{hit.text.rstrip()}\n```\n"


def render_card(card: CardFacts) -> str:
    consider = first_sentences(card.section("Consider"), 2)
    why = first_sentences(card.section("Why"), 3)
    return f"### Card {card.id}: {card.title}\nConsider: {consider}\nWhy: {why}\n"


def render_finding(f: Finding) -> str:
    return f"- {f.path}:{f.line} [{f.severity}] {f.topic}: {f.message}"


def render_profile(p: RepoProfile | None) -> str:
    if p is None:
        return "## Repository profile\nUnknown.\n"
    return (
        "## Repository profile\n"
        f"Python {p.python_version or 'unpinned'}; dependency manager: {p.dependency_manager or 'none'}; "
        f"frameworks: {', '.join(p.frameworks) or 'none'}; async share: {p.async_share:.2f}; "
        f"tests: {p.test_framework or 'none'}; type checker: {p.type_checker or 'none'}; "
        f"entry points: {', '.join(p.entry_points[:5]) or 'none'}.\n"
    )


@dataclass(frozen=True)
class Candidates:
    """Material for one context block, best first (a follow-up adds a second block)."""

    code: list[Hit] = field(default_factory=list)
    cards: list[CardFacts] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Block:
    code: list[Hit]
    cards: list[CardFacts]
    findings: list[Finding]

    def render(self) -> str:
        parts: list[str] = []
        if self.cards:
            parts.append("## Pattern cards\n" + "\n".join(render_card(c) for c in sorted(self.cards, key=lambda c: c.id)))
        if self.code:
            ordered = sorted(self.code, key=lambda h: (h.path, h.start_line))
            parts.append("## Code from the repository\n" + "\n".join(render_code(h) for h in ordered))
        if self.findings:
            parts.append("## Review findings\n" + "\n".join(render_finding(f) for f in self.findings) + "\n")
        return "\n".join(parts)


@dataclass(frozen=True)
class Packed:
    """What the model is given; ``facts`` is exactly what an answer may cite."""

    static: str
    blocks: list[Block]
    history: list[tuple[str, str]]
    question: str
    facts: Facts
    prefix_tokens: int
    dropped: int = 0

    def context(self) -> str:
        return self.static + "\n" + "\n".join(b.render() for b in self.blocks if b.code or b.cards or b.findings)

    def history_text(self) -> str:
        if not self.history:
            return ""
        turns = "\n".join(f"Q: {q}\nA: {a}\n" for q, a in self.history)
        return f"## Earlier in this conversation\n{turns}\n"

    def document(self) -> str:
        """The document prefix for a base model; sections are appended to it."""
        return f"{self.context()}\n{self.history_text()}## Question\n{self.question}\n{ANSWER_HEADER}"


def condense_answer(text: str) -> str:
    """An earlier answer as history: its prose, without headings and code."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return first_sentences("\n".join(lines), 3)


def _pack_history(history: Sequence[tuple[str, str]], limit: int, count: TokenCounter) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    used = count("## Earlier in this conversation\n")
    for q, a in reversed(list(history)):  # newest first: the latest turn matters most
        q2 = truncate_tokens(" ".join(q.split()), 60, count)
        a2 = truncate_tokens(condense_answer(a), 90, count)
        cost = count(f"Q: {q2}\nA: {a2}\n") + 1
        if used + cost > limit:
            break
        kept.append((q2, a2))
        used += cost
    return list(reversed(kept))


def pack(
    *,
    question: str,
    profile: RepoProfile | None,
    blocks: Sequence[Candidates],
    history: Sequence[tuple[str, str]] = (),
    budget: Budget,
    count: TokenCounter,
    persona: str | None = None,
    card_tokens: int = 260,
    code_tokens: int = 480,
) -> Packed:
    """Fit persona, profile, sources, history and question into ``budget.prefix_limit`` tokens."""
    limit = budget.prefix_limit
    static = (persona if persona is not None else load_prompt("document")).strip() + "\n\n" + render_profile(profile)
    static = truncate_tokens(static, limit // 3, count)
    q_text = truncate_tokens(" ".join(question.split()) or "(empty question)", max(16, limit // 8), count)
    hist = _pack_history(history, max(0, limit // 8), count) if history else []
    fixed = count(static) + count(f"## Question\n{q_text}\n{ANSWER_HEADER}") + count(
        Packed(static, [], hist, q_text, Facts(q_text, profile), 0).history_text())
    room = limit - fixed - 32
    if not history:
        room = min(room, int(limit * budget.first_turn_share) - count(static))
    packed_blocks, dropped = _pack_blocks(blocks, room, count, card_tokens, code_tokens,
                                          later_room=int(limit * budget.follow_up_share))

    while True:  # the pieces were measured apart; measure the whole and shrink until it fits
        facts = _facts(q_text, profile, packed_blocks)
        result = Packed(static, packed_blocks, hist, q_text, facts, 0, dropped)
        total = count(result.document())
        if total <= limit:
            return dataclasses.replace(result, prefix_tokens=total)
        if any(b.code or b.cards or b.findings for b in packed_blocks):
            packed_blocks, dropped = _drop_last(packed_blocks), dropped + 1
        elif hist:
            hist = hist[1:]
        elif count(q_text) > 16:
            q_text = truncate_tokens(q_text, max(8, count(q_text) // 2), count)
        else:
            static = truncate_tokens(static, max(8, count(static) // 2), count)


def _pack_blocks(blocks: Sequence[Candidates], total_room: int, count: TokenCounter,
                 card_tokens: int, code_tokens: int, later_room: int | None = None) -> tuple[list[Block], int]:
    """Greedy by rank, earlier blocks first; cards get up to 35% of the room, code the rest.

    Blocks after the first (a follow-up's new material) get at most ``later_room`` tokens together:
    everything they add is read again by the model before the follow-up's first token.
    """
    out: list[Block] = []
    used = 0
    dropped = 0
    shown_findings: set[tuple[str, int, str]] = set()
    card_room = int(total_room * 0.35)
    card_used = 0
    room = total_room
    for i, cand in enumerate(blocks):
        if i == 1 and later_room is not None:
            room = min(total_room, used + later_room)
        cards: list[CardFacts] = []
        for card in cand.cards:
            cost = count(render_card(card))
            if cost > card_tokens or card_used + cost > card_room or used + cost > room:
                dropped += 1
                continue
            cards.append(card)
            card_used += cost
            used += cost
        code: list[Hit] = []
        for hit in cand.code:
            fitted = truncate_code(hit, min(code_tokens, room - used), count)
            if fitted is None:
                dropped += 1
                continue
            cost = count(render_code(fitted))
            if used + cost > room:
                dropped += 1
                continue
            code.append(fitted)
            used += cost
        findings: list[Finding] = []
        for f in cand.findings:
            key = (f.path, f.line, f.rule)
            if key in shown_findings:
                continue
            cost = count(render_finding(f)) + 1
            if used + cost > room:
                dropped += 1
                continue
            findings.append(f)
            shown_findings.add(key)
            used += cost
        out.append(Block(code, cards, findings))
    return out, dropped


def _drop_last(blocks: list[Block]) -> list[Block]:
    """Remove the lowest-ranked item of the newest non-empty block (findings, then code, then cards)."""
    out = list(blocks)
    for i in range(len(out) - 1, -1, -1):
        b = out[i]
        if b.findings:
            out[i] = Block(b.code, b.cards, b.findings[:-1])
        elif b.code:
            out[i] = Block(b.code[:-1], b.cards, b.findings)
        elif b.cards:
            out[i] = Block(b.code, b.cards[:-1], b.findings)
        else:
            continue
        return out
    return out


def _facts(question: str, profile: RepoProfile | None, blocks: Sequence[Block]) -> Facts:
    # The newest block first: a follow-up's answer is about the follow-up's own material.
    code: list[Hit] = []
    cards: list[CardFacts] = []
    findings: list[Finding] = []
    for b in reversed(blocks):
        code += b.code
        cards += [c for c in b.cards if c.id not in {x.id for x in cards}]
        findings += b.findings
    return Facts(question=question, profile=profile, code=code, cards=cards, findings=findings)


def document_section_prompt(packed: Packed, section: str, facts_text: str, budget: Budget, count: TokenCounter) -> str:
    """One section's prompt for a base model: the shared prefix, then heading, facts and the lead."""
    facts_fit = truncate_tokens(facts_text, budget.facts_tokens, count)
    return f"{packed.document()}\n### {section}\n{facts_fit}\n\n{DOCUMENT_LEAD}"


def chat_messages(packed: Packed, section: str, facts_text: str, budget: Budget, count: TokenCounter,
                  sentences: str = "two to four") -> list[dict[str, str]]:
    """One section's chat for an instruction-tuned model; system + history stay the same across sections.

    ``packed`` must have been packed with ``persona=load_prompt("chat_system")``.
    """
    messages = [{"role": "system", "content": packed.context()}]
    for q, a in packed.history:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    user = load_prompt("chat_section").format(
        question=packed.question, section=section, sentences=sentences,
        facts=truncate_tokens(facts_text, budget.facts_tokens, count))
    messages.append({"role": "user", "content": user})
    return messages


SECTION_STOPS: tuple[str, ...] = ("\n\n", "\n#", "###", "\nQ:", "## ")
