"""What one question's prompt is made of: the code lines, the findings in them, the pattern cards.

Pure selection over what retrieval returned (and, for the callees, one more search each): no model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from mentor_local.answer.compose import CardFacts
from mentor_local.answer.excerpts import Excerpt, called_names, pack_excerpts, question_terms, select
from mentor_local.domain import Finding, Hit, severity_rank
from mentor_local.protocols import Searchable

Shown = set[tuple[str, int]]
"""(path, first line) of the hits already given to the model in this conversation."""


def code_excerpts(index: Searchable, question: str, hits: list[Hit], shown: Shown, budget: int) -> list[Excerpt]:
    """The lines of the fresh ``hits`` that bear on the question, then what the best of them call, in ``budget``."""
    repo = Path(index.repo)
    fresh = [h for h in hits if (h.path, h.start_line) not in shown]
    excerpts = pack_excerpts(fresh, question, budget, repo=repo)
    left = budget - sum(ex.cost() for ex in excerpts)
    if excerpts and left >= 60:
        excerpts += _callees(index, excerpts[:3], question, left, shown | {(e.path, e.hit.start_line) for e in excerpts})
    return excerpts


def _callees(index: Searchable, top: list[Excerpt], question: str, budget: int, shown: Shown) -> list[Excerpt]:
    """The definitions the best excerpts call (helpers often hold the answer), closest to the question first."""
    out: list[Excerpt] = []
    terms = question_terms(question)
    names: list[str] = []
    for ex in top:
        names += [n for n in called_names(ex) if n not in names]
    names.sort(key=lambda n: -len(question_terms(n.replace("_", " ")) & terms))  # stable: call order breaks ties
    for name in names[:4]:
        if budget < 60:
            break
        found = [h for h in index.search(name, k=3, source="code")
                 if h.source == "code" and (h.symbol == name or h.symbol.endswith("." + name))
                 and (h.path, h.start_line) not in shown]
        if not found:
            continue
        callee = select(found[0], terms, min(budget, 160), Path(index.repo))
        if callee is not None:
            out.append(callee)
            shown.add((callee.path, callee.hit.start_line))
            budget -= callee.cost()
    return out


def findings_in(findings: Iterable[Finding], excerpts: list[Excerpt], question: str) -> list[Finding]:
    """High-confidence findings inside the code the answer is about, most relevant first (at most four)."""
    terms = question_terms(question)
    ranked: list[tuple[int, int, int, Finding]] = []
    for f in findings:
        if f.confidence != "high":
            continue
        for rank, ex in enumerate(excerpts):
            if f.path == ex.path and ex.hit.start_line <= f.line <= ex.hit.end_line:
                words = set(question_terms(f"{f.topic} {f.message}"))
                ranked.append((rank, -len(words & terms), severity_rank(f.severity), f))
                break
    ranked.sort(key=lambda r: (r[0], r[1], r[2], r[3].line))
    out: list[Finding] = []
    for *_, f in ranked:
        if (f.path, f.line, f.rule) not in {(x.path, x.line, x.rule) for x in out}:
            out.append(f)
    return out[:4]


def _card_id(hit: Hit) -> str:
    return str(hit.metadata.get("card_id") or Path(hit.path).stem)


def cards_for(library: Mapping[str, CardFacts], card_hits: list[Hit], findings: list[Finding],
              exclude: set[str]) -> list[CardFacts]:
    """The retrieved cards (and the first finding's card) not given before, at most three."""
    out: list[CardFacts] = []
    ids = [_card_id(h) for h in card_hits]
    ids += [f.card for f in findings[:1] if f.card]
    for cid in ids:
        card = library.get(cid)
        if card is not None and card.id not in exclude and card.id not in {c.id for c in out}:
            out.append(card)
        if len(out) >= 3:
            break
    return out


def card_sources(card_hits: list[Hit], cards: list[CardFacts]) -> list[Hit]:
    """The card hits of the cards the prompt gave, once each (``Answer.sources``)."""
    given = {c.id for c in cards}
    out: list[Hit] = []
    seen: set[tuple[str, int]] = set()
    for h in card_hits:
        if _card_id(h) in given and (h.path, h.start_line) not in seen:
            seen.add((h.path, h.start_line))
            out.append(h)
    return out
