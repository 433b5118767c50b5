"""The streamed-answer parser: headings however spelled, sentences checked as they complete, fences whole."""

from __future__ import annotations

import pytest

from mentor_local.answer.checks import Grounds, SentenceCheck
from mentor_local.answer.citations import SourceRange
from mentor_local.answer.sections import SectionStream, heading_index
from mentor_local.domain import SECTION_NAMES


@pytest.mark.parametrize(("line", "index"), [
    ("### Backend Architecture Analysis", 0), ("**2. Learning Points**", 1), ("## 3) Code Quality Issues:", 2),
    ("#### Implementation Guide", 3), ("**Python Patterns Taught:**", 4), ("### Code Evolution", 5),
    ("### Summary", None), ("Learning Points are nice.", None), ("1. Consider batching.", None),
])
def test_headings_are_recognised_however_spelled(line: str, index: int | None) -> None:
    assert heading_index(line) == index


def run(text: str, step: int) -> tuple[str, SectionStream]:
    grounds = Grounds.build(code_texts=["def load_orders(session, user_ids):\n    return session.query(Order)\n"],
                            card_texts=[], other_texts=[], paths=["app/orders.py"],
                            ranges=[SourceRange("app/orders.py", 1, 2)], names=["load_orders"], partial={})
    out = SectionStream(SentenceCheck(grounds), fill=lambda i: f"FILL {i}", extras=lambda i: "", started=False)
    shown = out.start_section(0)
    for i in range(0, len(text), step):
        shown += out.feed(text[i: i + step])
    return shown + out.finish(), out


TEXT = """### Backend Architecture Analysis
`load_orders` at `app/orders.py:1-2` queries orders. It calls `session.magic()` too. It returns a query.

**2. Learning Points**
- The session is a parameter, which keeps `load_orders` testable.
- 2. Consider passing a limit.

```python
rows = load_orders(session, [1, 2])
```

### Code Evolution Path
1. Batch the query. 2. Add a cap"""


@pytest.mark.parametrize("step", [1, 3, 7, 50, 10_000])
def test_the_same_answer_whatever_the_chunking(step: int) -> None:
    shown, out = run(TEXT, step)
    assert shown == run(TEXT, 10_000)[0]
    assert [ln[4:] for ln in shown.splitlines() if ln.startswith("### ")] == list(SECTION_NAMES)
    assert "magic" not in shown and out.check.stats.dropped["identifier"] == 1
    assert "- The session is a parameter" in shown  # the bullet keeps its marker
    assert "```python\nrows = load_orders(session, [1, 2])\n```" in shown
    assert "Add a cap" not in shown  # an unfinished last sentence (cut by the token limit) is not shown
    assert out.filled == ["Code Quality Issues", "Implementation Guide", "Python Patterns Taught"]
    assert "FILL 2" in out.texts[2] and out.model_texts[2] == ""


def test_text_before_any_heading_belongs_to_the_first_section() -> None:
    shown, out = run("`load_orders` returns a query.\n", 5)
    assert out.texts[0].startswith("`load_orders` returns a query.")
    assert shown.count("### Backend Architecture Analysis") == 1
