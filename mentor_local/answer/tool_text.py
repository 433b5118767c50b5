"""What the tool writes into an answer itself: the code it read, its findings and cards, and the facts
that fill a section the model left empty."""

from __future__ import annotations

from mentor_local.answer.compose import (
    Facts,
    architecture,
    evolution,
    implementation_guide,
    learning_points,
    patterns_taught,
)
from mentor_local.answer.excerpts import Excerpt
from mentor_local.answer.prompting import Material
from mentor_local.domain import SECTION_NAMES


def cite(ex: Excerpt) -> str:
    return f"{ex.path}:{ex.start_line}-{ex.end_line}" if ex.end_line > ex.start_line else f"{ex.path}:{ex.start_line}"


def read_line(m: Material) -> str:
    """The first line of an answer, on screen before the model's first token: the code read."""
    if not m.excerpts:
        return "_No code in the index matched this question; the answer draws on the pattern library._"
    named = ", ".join(f"`{cite(ex)}` (`{ex.hit.symbol or ex.name}`)" for ex in m.excerpts[:5])
    return f"_Code read for this answer: {named}._"


def section_extras(i: int, m: Material) -> str:
    """What the tool adds at the end of section ``i``: the findings list, the cards to read."""
    name = SECTION_NAMES[i]
    if name == "Code Quality Issues":
        if not m.findings:
            return "_The review reports no high-confidence findings in the code read for this answer._\n"
        rows = [f"- **{f.severity}** `{f.path}:{f.line}` — {f.message} (`{f.topic}`"
                + (f", card `{f.card}`" if f.card else "") + ")" for f in m.findings]
        return "Review findings in this code:\n" + "\n".join(rows) + "\n"
    if name == "Python Patterns Taught" and m.cards:
        return "Pattern cards to read: " + ", ".join(f"`{c.id}` ({c.title})" for c in m.cards) + ".\n"
    return ""


def section_fill(i: int, facts: Facts) -> str:
    """Section ``i`` from facts, for when the model left it empty or did not reach it."""
    name = SECTION_NAMES[i]
    if name == "Backend Architecture Analysis":
        return architecture(facts)
    if name == "Learning Points":
        return learning_points(facts)
    if name == "Implementation Guide":
        return implementation_guide(facts)
    if name == "Code Evolution Path":
        return evolution(facts)
    if name == "Python Patterns Taught" and not facts.cards:
        return patterns_taught(facts)
    return ""  # Code Quality Issues and Python Patterns Taught carry the tool's own list
