"""The substance of each answer section, composed by code from facts the tool holds.

Nothing here is generated: the repo profile, the review findings, the pattern
cards' own text and the retrieved code's names and lines.  The model's part
(short, checked commentary) is added by ``mentor`` after these facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mentor_local.domain import SECTION_NAMES, Finding, Hit, RepoProfile, severity_rank

_MAX_CODE_LINES = 28


class CardLike(Protocol):
    """What an answer reads of a pattern card: ``knowledge.Card``, or a test double."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def topics(self) -> Iterable[str]: ...

    @property
    def level(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def sections(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class CardFacts:
    """The parts of a pattern card an answer uses (a ``knowledge.Card`` or a test double)."""

    id: str
    title: str
    topics: tuple[str, ...]
    level: str
    path: str
    sections: dict[str, str]

    @classmethod
    def from_card(cls, card: CardLike) -> CardFacts:
        return cls(id=str(card.id), title=str(card.title), topics=tuple(card.topics), level=str(card.level),
                   path=str(card.path), sections=dict(card.sections))

    def section(self, name: str) -> str:
        return self.sections.get(name, "").strip()


@dataclass(frozen=True)
class Facts:
    """Everything an answer may state, already packed into the model's budget."""

    question: str
    profile: RepoProfile | None
    code: list[Hit] = field(default_factory=list)
    cards: list[CardFacts] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def cite(hit: Hit) -> str:
    return f"{hit.path}:{hit.start_line}-{hit.end_line}" if hit.end_line > hit.start_line else f"{hit.path}:{hit.start_line}"


def name_of(hit: Hit) -> str:
    return hit.qualname or hit.symbol or hit.path


def plain(text: str) -> str:
    """Markdown prose without code fences, on one line."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    return " ".join(text.split())


def first_sentences(text: str, n: int) -> str:
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", plain(text))
    return " ".join(s for s in sentences[:n] if s)


def list_items(text: str, limit: int) -> list[str]:
    items = [m.group(1).strip() for m in re.finditer(r"^\s*(?:\d+[.)]|[-*])\s+(.+)$", text, flags=re.M)]
    return items[:limit] if items else ([first_sentences(text, 2)] if text.strip() else [])


def last_code_block(card: CardFacts) -> str:
    """The card's most production-ready example (its last block), trimmed to a readable length."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", card.section("Code"), flags=re.S)
    if not blocks:
        return ""
    lines = blocks[-1].rstrip("\n").splitlines()
    if len(lines) > _MAX_CODE_LINES:
        lines = lines[:_MAX_CODE_LINES] + [f"# … {len(lines) - _MAX_CODE_LINES} more lines in card {card.id}"]
    return "\n".join(lines)


def findings_in(hit: Hit, findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.path == hit.path and hit.start_line <= f.line <= hit.end_line]


def anchor(card: CardFacts, facts: Facts) -> tuple[Hit | None, Finding | None]:
    """The user's code a card speaks to: a finding of its topic inside a retrieved hit, else the best hit."""
    related = [f for f in facts.findings if f.card == card.id or f.topic in card.topics]
    for f in related:
        for hit in facts.code:
            if hit.path == f.path and hit.start_line <= f.line <= hit.end_line:
                return hit, f
    if related:
        return None, related[0]
    # A function or class says more than a module's imports; fall back to whatever ranked first.
    named = [h for h in facts.code if h.kind in ("function", "method", "class")]
    return (named[0] if named else facts.code[0] if facts.code else None), None


def _where(hit: Hit | None, finding: Finding | None) -> str:
    if finding is not None and hit is not None:
        return f"`{name_of(hit)}` (`{cite(hit)}`), where review flags line {finding.line}: {finding.message}"
    if finding is not None:
        return f"`{finding.path}:{finding.line}` ({finding.message})"
    if hit is not None:
        return f"`{name_of(hit)}` (`{cite(hit)}`), the code most related to your question"
    return "your code (nothing was retrieved for this question)"


def architecture(facts: Facts) -> str:
    lines: list[str] = []
    p = facts.profile
    if p is not None:
        py = p.python_version or "not pinned"
        lines.append(f"- Python: {py}; dependencies managed with {p.dependency_manager or 'no lock/manifest tool detected'}.")
        lines.append(f"- Frameworks: {', '.join(p.frameworks) if p.frameworks else 'none detected'}.")
        share = p.async_share * 100 if p.async_share <= 1 else p.async_share
        lines.append(f"- Async: {share:.0f}% of functions are `async def`.")
        lines.append(f"- Tests: {p.test_framework or 'no test framework detected'}; "
                     f"type checking: {p.type_checker or 'none configured'}.")
        if p.entry_points:
            lines.append(f"- Entry points: {', '.join(f'`{e}`' for e in p.entry_points[:5])}.")
    else:
        lines.append("- The repository profile is not available.")
    if facts.code:
        shown = ", ".join(f"`{name_of(h)}` ({h.kind}, `{cite(h)}`)" for h in facts.code[:5])
        lines.append(f"- Code that answers this question: {shown}.")
        files = sorted({h.path for h in facts.code})
        lines.append(f"- Files involved: {', '.join(f'`{f}`' for f in files[:8])}.")
    else:
        lines.append("- No code in the index matched this question; the answer relies on the pattern library.")
    return "\n".join(lines)


def learning_points(facts: Facts) -> str:
    out: list[str] = []
    for card in facts.cards[:3]:
        hit, finding = anchor(card, facts)
        why = first_sentences(card.section("Why"), 2) or first_sentences(card.section("Consider"), 1)
        out.append(f"- **{card.title}** (card `{card.id}`): {why} In your code: {_where(hit, finding)}.")
    if not out:
        for hit in facts.code[:3]:
            out.append(f"- `{name_of(hit)}` (`{cite(hit)}`) is a {hit.kind}; no pattern card matched it for this question.")
    return "\n".join(out) or "- Nothing was retrieved for this question; index the repo and ask about a module or behaviour."


def quality_issues(facts: Facts, cards_by_id: dict[str, CardFacts]) -> str:
    out: list[str] = []
    ordered = sorted(facts.findings, key=lambda f: (severity_rank(f.severity), f.path, f.line))
    for f in ordered[:8]:
        card = cards_by_id.get(f.card or "")
        consider = f" {first_sentences(card.section('Consider'), 1)}" if card else ""
        out.append(f"- **{f.severity}** `{f.path}:{f.line}` — {f.message} (`{f.topic}`, rule `{f.rule}`).{consider}")
    if not out:
        files = sorted({h.path for h in facts.code})
        where = ", ".join(f"`{p}`" for p in files[:5]) if files else "the retrieved code"
        out.append(f"- The review found no issues in {where}.")
    return "\n".join(out)


def implementation_guide(facts: Facts) -> str:
    if not facts.cards:
        steps = [f"{i}. Fix `{f.path}:{f.line}`: {f.message}" for i, f in enumerate(facts.findings[:4], 1)]
        return "\n".join(steps) or "No pattern card matched this question; no step-by-step guide is available."
    card = facts.cards[0]
    hit, finding = anchor(card, facts)
    parts = [f"Apply **{card.title}** (card `{card.id}`) to {_where(hit, finding)}.",
             "", f"1. {first_sentences(card.section('Consider'), 2)}"]
    fix = [f for f in facts.findings if f.card == card.id or f.topic in card.topics][:3]
    for i, f in enumerate(fix, 2):
        parts.append(f"{i}. Change `{f.path}:{f.line}` ({f.message}).")
    code = last_code_block(card)
    if code:
        parts += ["", "The card's production version, to adapt to your code:", "", "```python", code, "```"]
    return "\n".join(parts)


def patterns_taught(facts: Facts) -> str:
    out = [f"- {c.title} — card `{c.id}` ({c.level}; topics: {', '.join(c.topics) or 'general'})" for c in facts.cards]
    return "\n".join(out) or "- No pattern card matched this question."


def evolution(facts: Facts) -> str:
    if not facts.cards:
        return "- No pattern card matched this question, so there is no evolution path to show."
    card = facts.cards[0]
    hit, finding = anchor(card, facts)
    out = [f"Starting from {_where(hit, finding)} ({card.title}):"]
    out += [f"{i}. {step}" for i, step in enumerate(list_items(card.section("Evolution"), 4), 1)]
    for other in facts.cards[1:3]:
        nxt = list_items(other.section("Evolution"), 3)
        if nxt:
            out.append(f"- Then, from card `{other.id}`: {nxt[-1]}")
    return "\n".join(out)


def compose_sections(facts: Facts, cards_by_id: dict[str, CardFacts] | None = None) -> dict[str, str]:
    """The six sections' factual text, in ``SECTION_NAMES`` order; none is ever empty."""
    by_id = dict(cards_by_id or {})
    by_id.update({c.id: c for c in facts.cards})
    texts = {
        "Backend Architecture Analysis": architecture(facts),
        "Learning Points": learning_points(facts),
        "Code Quality Issues": quality_issues(facts, by_id),
        "Implementation Guide": implementation_guide(facts),
        "Python Patterns Taught": patterns_taught(facts),
        "Code Evolution Path": evolution(facts),
    }
    return {name: texts[name] for name in SECTION_NAMES}
