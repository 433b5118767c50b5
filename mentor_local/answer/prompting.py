"""Prompt assembly (pure): one chat per question, laid out for the model's prefix cache.

Layout (llama.cpp keeps the longest common token prefix between calls, so what stays the same
goes first)::

    system     persona + the six sections + rules, then the repository profile   same for every question
    user       the question, my code (numbered excerpts), review findings on those lines,
               general guidance (pattern cards, marked as not from this repository)
    assistant  the answer, as the model wrote it
    user       a follow-up: its question and only the code not shown before            (follow-ups)

The user's code and the pattern cards are kept apart on purpose: small models otherwise
attribute a card's advice to the code. Budgets are in tokens of the model's own tokenizer
for the whole message; the parts are sized with a cheap estimate first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from mentor_local.answer.compose import CardFacts, first_sentences
from mentor_local.answer.excerpts import Excerpt, estimate_tokens
from mentor_local.domain import Finding, Hit, RepoProfile

TokenCounter = Callable[[str], int]
ELLIPSIS = " …"
Message = dict[str, str]


@cache
def load_prompt(name: str) -> str:
    return resources.files("mentor_local.answer").joinpath("prompts", f"{name}.md").read_text(encoding="utf-8")


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


def system_prompt(profile: RepoProfile | None) -> str:
    """The same for every question on a repo: the model's cache keeps it between questions."""
    return load_prompt("system").strip() + "\n\n" + render_profile(profile)


def render_finding(f: Finding) -> str:
    return f"- {f.path}:{f.line} [{f.severity}] {f.topic}: {f.message}"


def render_card(card: CardFacts) -> str:
    consider = first_sentences(card.section("Consider"), 1)
    if len(consider) > 220:  # the gist is enough: the card's own page has the rest
        consider = consider[:220].rsplit(" ", 1)[0] + " …"
    return f"- {card.title} (card {card.id}): {consider}"


@dataclass(frozen=True)
class Material:
    """What one question brings to the prompt, best first."""

    question: str
    excerpts: list[Excerpt] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    cards: list[CardFacts] = field(default_factory=list)
    others: list[Hit] = field(default_factory=list)
    """Code retrieval found but the budget left out: named, not shown."""


def render_user(m: Material, *, follow_up: bool = False, earlier: Sequence[tuple[str, str]] = ()) -> str:
    parts: list[str] = []
    if earlier:  # turns of a conversation the model has not seen (a new session): their gist only
        parts.append("Earlier in this conversation:\n" + "\n".join(
            f"Q: {q}\nA (gist): {first_sentences(condense_answer(a), 2)}" for q, a in earlier))
    parts.append(f"My question: {m.question}")
    if m.excerpts:
        head = "## More of my code" if follow_up else "## My code (from this repository; numbers are line numbers)"
        parts.append(head + "\n" + "\n\n".join(ex.render() for ex in m.excerpts))
    elif not follow_up:
        parts.append("## My code\nNothing in the repository matched this question.")
    if m.others:
        parts.append("Also related in my code (not shown): " + ", ".join(
            f"{h.path}:{h.start_line}-{h.end_line} `{h.symbol or h.qualname}`" for h in m.others) + ".")
    if m.findings:
        parts.append("## Review findings on these lines (facts from a static review)\n"
                     + "\n".join(render_finding(f) for f in m.findings))
    if m.cards:
        parts.append("## General guidance (from a pattern library, NOT from this repository)\n"
                     + "\n".join(render_card(c) for c in m.cards))
    parts.append("Answer in the six sections." if not follow_up else
                 "Answer this follow-up in the six sections, about my code.")
    return "\n\n".join(parts)


def condense_answer(text: str) -> str:
    """An earlier answer as history: its prose, without headings and code."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", "```"))]
    return first_sentences("\n".join(lines), 3)


def fit_material(m: Material, limit: int, *, follow_up: bool = False) -> Material:
    """Drop the lowest-ranked cards, findings, then excerpts until the estimate fits ``limit`` tokens."""
    cur = m
    while estimate_tokens(render_user(cur, follow_up=follow_up)) > limit:
        if len(cur.cards) > 1:
            cur = dataclasses.replace(cur, cards=cur.cards[:-1])
        elif cur.others:
            cur = dataclasses.replace(cur, others=cur.others[:-1])
        elif len(cur.findings) > 2:
            cur = dataclasses.replace(cur, findings=cur.findings[:-1])
        elif len(cur.excerpts) > 1:
            cur = dataclasses.replace(cur, excerpts=cur.excerpts[:-1])
        elif cur.cards or cur.findings:
            cur = dataclasses.replace(cur, findings=[], cards=[])
        else:
            break
    return cur


@dataclass(frozen=True)
class Turn:
    """One answered question as the model saw it: the next question can reuse its cached tokens."""

    user: str
    reply: str
    material: Material


def build_messages(system: str, turns: Sequence[Turn], user: str) -> list[Message]:
    messages: list[Message] = [{"role": "system", "content": system}]
    for t in turns:
        messages += [{"role": "user", "content": t.user}, {"role": "assistant", "content": t.reply}]
    messages.append({"role": "user", "content": user})
    return messages
