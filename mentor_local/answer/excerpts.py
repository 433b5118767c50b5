"""The lines of the retrieved code that bear on the question, numbered, within a token budget.

A retrieved function can be 100+ lines while the model's prompt holds a few hundred tokens of
code. Packing whole hits drops the function that holds the answer, or cuts it before the line
that matters (an OAuth callback whose CSRF check sits 60 lines in). So each hit is reduced to
its signature, the first line of its docstring, and the lines whose words meet the question's
(with two lines of context each), in file order; whatever is left out is marked, so the model
(and the check) know the excerpt is partial. A hit that fits whole is shown whole.

Pure: no model, no index. The token cost is estimated from characters (the exact count of the
whole prompt is taken once, by the caller).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mentor_local.domain import Hit

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_CALL = re.compile(r"(?<![\w.])(?:self\.|cls\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_STOP = frozenset(
    "a an and are as at be by can code could do does doing done for from get go happen happens has have how i if in "
    "into is it its my of on or our should so that the their them then there these this those to up use used uses "
    "using was way we what when where which while who why will with without would you your work works make makes "
    "after before does handled handle kept keep let lets into over safely safe production app application project "
    "library".split()
)
CONTEXT = 2
"""Lines of context kept around each line that meets the question."""


def estimate_tokens(text: str, *, upper: bool = False) -> int:
    """The token count of ``text`` for a Qwen2.5-style BPE tokenizer, estimated from its characters.

    Fitted on the model's tokenizer over 20-line pieces of flask, rq, allauth and litestar code and the
    pattern cards: each line costs ~0.22 a visible character, 0.06 an indenting space and ~1.9 for its end;
    a non-ASCII character about one token. It leans high: estimate / real is 1.18 on average for code
    (5th percentile 0.98) and 1.10 for the cards (0.87), where characters / 3 was 1.56 (``scripts/bench/
    token_estimate.py``); the exact count of the whole prompt is still taken once, by the caller. ``upper=True`` is the cautious
    bound (3 characters a token) for where an overflow would fail a call (a server with no tokenizer).
    """
    if upper:
        return len(text) // 3 + 1
    body = indent = 0
    lines = text.split("\n")
    for line in lines:
        stripped = line.lstrip()
        indent += len(line) - len(stripped)
        body += len(stripped.rstrip())
    wide = sum(1 for ch in text if ord(ch) > 127)
    return int(0.22 * body + 0.06 * indent + 1.9 * len(lines) + 0.8 * wide) + 1


def _parts(identifier: str) -> list[str]:
    out: list[str] = []
    for piece in identifier.split("_"):
        out += [p.lower() for p in _CAMEL.findall(piece)] if piece else []
    return out


def question_identifiers(question: str) -> set[str]:
    """Names the question spells as code: in backticks, or shaped like an identifier (``current_app``)."""
    found = {w for span in re.findall(r"`([^`]+)`", question) for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}
    found |= {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", question)
              if "_" in w.strip("_") or re.search(r"[a-z][A-Z]", w)}
    return {w for w in found if len(w) >= 3}


def question_terms(question: str) -> set[str]:
    """Lower-case word stems of the question, without stop words (``expiry`` → ``expiry``, ``expir``)."""
    terms: set[str] = set()
    for word in _WORD.findall(question):
        for part in _parts(word) or [word.lower()]:
            if len(part) < 3 or part in _STOP:
                continue
            terms.add(part)
            for suffix in ("ing", "ed", "es", "s", "y", "ation", "ion"):
                if part.endswith(suffix) and len(part) - len(suffix) >= 3:
                    terms.add(part[: -len(suffix)])
    return terms


def _matched(line: str, terms: set[str]) -> set[str]:
    """The question terms a line meets (a term matches a word it starts, or that starts it)."""
    words = {p for w in _WORD.findall(line) for p in _parts(w)}
    return {t for t in terms
            if any(w == t or (len(t) >= 3 and len(w) >= 3 and (w.startswith(t) or t.startswith(w))) for w in words)}


def term_weights(lines: Sequence[str], terms: set[str]) -> dict[str, float]:
    """Rarer terms weigh more (inverse line frequency): in flask, ``app`` is on every other line, ``teardown`` is not."""
    import math

    n = max(1, len(lines))
    df = {t: 0 for t in terms}
    for line in lines:
        for t in _matched(line, terms):
            df[t] += 1
    return {t: math.log((n + 1) / (df[t] + 0.5)) for t in terms}


def _line_score(line: str, weights: dict[str, float]) -> float:
    return sum(weights[t] for t in _matched(line, set(weights)))


@dataclass(frozen=True)
class Excerpt:
    """Lines of one hit as the model sees them; ``lines`` are (line number, text) in file order."""

    hit: Hit
    lines: tuple[tuple[int, str], ...]
    partial: bool

    @property
    def path(self) -> str:
        return self.hit.path

    @property
    def start_line(self) -> int:
        return self.lines[0][0] if self.lines else self.hit.start_line

    @property
    def end_line(self) -> int:
        return self.lines[-1][0] if self.lines else self.hit.end_line

    @property
    def name(self) -> str:
        return self.hit.qualname or self.hit.symbol or self.hit.path

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)

    def render(self) -> str:
        """Numbered lines under a header that names the path, range and symbol.

        Token-lean for a small CPU budget (a digit is a token to Qwen's tokenizer, so numbers were a fifth
        of a prompt): the lines lose their common indentation, and a line carries its number when it opens a
        run of shown lines, a ``def``/``class``/decorator, or its number is a multiple of 5; the others keep
        the bar, so counting to any line is short. On the answer dev set this let 0.540 of the facts into the
        prompt's code instead of 0.507, at the same real prompt size (``answer_quality.py --context-only``).
        """
        label = self.hit.symbol or self.hit.qualname or "module code"
        note = " (excerpt: lines marked … are not shown)" if self.partial else ""
        out = [f"#### {self.path}:{self.start_line}-{self.end_line} — {self.hit.kind} `{label}`{note}", "```python"]
        prev: int | None = None
        width = len(str(self.end_line))
        cut = min((len(t) - len(t.lstrip()) for _, t in self.lines if t.strip()), default=0)
        for n, text in self.lines:
            if prev is not None and n > prev + 1:
                out.append(f"{'':>{width}} | …")
            opens = text.lstrip().startswith(("def ", "async def ", "class ", "@"))
            number = str(n) if prev is None or n > prev + 1 or n % 5 == 0 or opens else ""
            out.append(f"{number:>{width}} | {text[cut:]}".rstrip())
            prev = n
        if self.partial and prev is not None and prev < self.hit.end_line:
            out.append(f"{'':>{width}} | …")
        out.append("```")
        return "\n".join(out)

    def cost(self) -> int:
        return estimate_tokens(self.render())


def hit_lines(hit: Hit, repo: Path | None = None) -> list[tuple[int, str]]:
    """The hit's lines with their file line numbers.

    A chunk's text is the file's lines when its line count matches its range; otherwise (a class with its
    methods reduced to signatures) the lines are read from the file, cleaned like indexed text, and used
    only if the first line agrees with the chunk (the file may have changed since it was indexed).
    """
    text_lines = hit.text.splitlines()
    span = hit.end_line - hit.start_line + 1
    if len(text_lines) == span or repo is None:
        return [(hit.start_line + i, t) for i, t in enumerate(text_lines)]
    try:
        raw = (repo / hit.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [(hit.start_line + i, t) for i, t in enumerate(text_lines)]
    from mentor_local.security import clean

    file_lines = clean(raw)[0].splitlines()
    piece = file_lines[hit.start_line - 1: hit.end_line]
    if piece and text_lines and piece[0].strip() == text_lines[0].strip():
        return [(hit.start_line + i, t) for i, t in enumerate(piece)]
    return [(hit.start_line + i, t) for i, t in enumerate(text_lines)]


def _signature_end(lines: Sequence[tuple[int, str]]) -> int:
    """Index of the last line of the decorators + ``def``/``class`` header (0 when there is none)."""
    for i, (_, text) in enumerate(lines[:12]):
        stripped = text.strip()
        if stripped.startswith(("def ", "async def ", "class ")) or (i and stripped.endswith(":")):
            depth = 0
            for j in range(i, min(len(lines), i + 12)):
                t = lines[j][1]
                depth += t.count("(") + t.count("[") - t.count(")") - t.count("]")
                if depth <= 0 and t.rstrip().endswith(":"):
                    return j
            return i
    return 0


def _head(lines: Sequence[tuple[int, str]]) -> set[int]:
    """Indices of the lines that open a hit: decorators, the header's first and last line, the docstring's first.

    A signature spread over many lines (one parameter a line) shows its first and last line only: the
    parameters rarely answer a question, and the lines that use them are chosen on their own merit.
    """
    end = _signature_end(lines)
    keep = set(range(end + 1))
    start = next((i for i in range(end + 1) if lines[i][1].strip().startswith(("def ", "async def ", "class "))), 0)
    if end - start > 2:
        keep -= set(range(start + 1, end))
    after = end + 1
    if after < len(lines) and lines[after][1].strip()[:4].lstrip("r").startswith(('"' * 3, "'" * 3)):
        keep.add(after)
    return keep


def select(hit: Hit, terms: set[str], budget: int, repo: Path | None = None,
           weights: dict[str, float] | None = None) -> Excerpt | None:
    """The hit whole if it fits ``budget`` tokens, else its header, docstring line and best-matching lines."""
    lines = hit_lines(hit, repo)
    if not lines:
        return None
    whole = Excerpt(hit, tuple(lines), partial=False)
    if whole.cost() <= budget:
        return whole
    keep = _head(lines)
    w = weights if weights is not None else term_weights([t for _, t in lines], terms)
    scored = sorted(((_line_score(t, w), i) for i, (_, t) in enumerate(lines) if t.strip()),
                    key=lambda si: (-si[0], si[1]))
    best: Excerpt | None = None
    for score, i in scored:
        if score <= 0:
            break
        trial = set(keep)
        trial.update(j for j in range(i - CONTEXT, i + CONTEXT + 1) if 0 <= j < len(lines) and lines[j][1].strip())
        cand = Excerpt(hit, tuple(lines[j] for j in sorted(trial)), partial=True)
        if cand.cost() > budget:
            continue
        keep, best = trial, cand
    if best is None:  # nothing in the body meets the question: its first lines say what it is
        first = Excerpt(hit, tuple(lines[j] for j in sorted(keep)), partial=True)
        if first.cost() > budget:
            return None
        for j in range(max(keep) + 1, len(lines)):
            cand = Excerpt(hit, tuple(lines[k] for k in sorted(keep | {j})), partial=True)
            if cand.cost() > budget:
                break
            keep.add(j)
        best = Excerpt(hit, tuple(lines[k] for k in sorted(keep)), partial=max(keep) < len(lines) - 1)
    return best


def called_names(excerpt: Excerpt) -> list[str]:
    """Functions and methods the shown lines call, in order of first call (builtins and the hit itself left out)."""
    seen: list[str] = []
    own = (excerpt.hit.symbol or "").rsplit(".", 1)[-1]
    for _, text in excerpt.lines[1:]:
        code = text.split("#", 1)[0]
        for name in _CALL.findall(code):
            if name not in seen and name != own and not _is_builtin(name) and len(name) > 3:
                seen.append(name)
    return seen


def _is_builtin(name: str) -> bool:
    import builtins

    return hasattr(builtins, name) or name in {"super", "print"}


def _docstring_lines(lines: Sequence[tuple[int, str]]) -> set[int]:
    """Indices of the lines inside triple-quoted strings (docstrings say less per token than code)."""
    inside = False
    out: set[int] = set()
    for i, (_, text) in enumerate(lines):
        n = text.count('"' * 3) + text.count("'" * 3)
        if inside or n:
            out.add(i)
        if n % 2 == 1:
            inside = not inside
    return out


def _line_cost(text: str) -> int:
    return estimate_tokens(text) + 2  # with the bar (and now and then a number) in front, as ``render`` writes it


_HEADER_COST = 32  # "#### path:a-b — kind `name` (excerpt: …)", the fences, a closing gap marker


def pack_excerpts(hits: Sequence[Hit], question: str, budget: int, *, repo: Path | None = None,
                  decay: float = 0.8, diminish: float = 0.6, max_hits: int = 5) -> list[Excerpt]:
    """The lines of ``hits`` (best first) that bear on ``question``, within ``budget`` tokens in all.

    Lines are chosen across all hits at once: each line scores the (rarity-weighted) question terms it
    meets, times ``decay`` per rank of its hit, docstring lines at 0.6, and ``diminish`` for every window
    its hit already gave; the best windows (a line and two around it) are taken greedily while they fit,
    each hit opened with its signature. A hit that then
    fits whole in what is left is shown whole.
    """
    terms = question_terms(question)
    named = question_identifiers(question)
    all_lines = [hit_lines(h, repo) for h in hits]
    weights = term_weights([t for lines in all_lines for _, t in lines], terms)
    units: list[tuple[float, int, int, set[int]]] = []  # (value, hit, line index, window)
    heads: list[set[int]] = []
    for h, lines in enumerate(all_lines):
        heads.append(_head(lines) if lines else set())
        doc = _docstring_lines(lines)
        for i, (_, text) in enumerate(lines):
            score = _line_score(text, weights) * (0.6 if i in doc else 1.0)
            if named and i not in doc and any(re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text) for n in named):
                score += 12.0  # the question names this code: its lines come first
            if score > 0 and text.strip():
                window = {j for j in range(i - CONTEXT, i + CONTEXT + 1) if 0 <= j < len(lines) and lines[j][1].strip()}
                units.append((score * decay ** h, h, i, window))
    chosen: dict[int, set[int]] = {}
    taken = [0 for _ in hits]  # windows already taken per hit: each next one is worth less (spread the room)
    used = 0
    left = list(units)
    while left:
        best = max(range(len(left)), key=lambda k: (left[k][0] * diminish ** taken[left[k][1]], -left[k][1], -left[k][2]))
        _, h, _, window = left.pop(best)
        if h not in chosen and len(chosen) >= max_hits:
            continue
        lines = all_lines[h]
        new = window | (heads[h] if h not in chosen else set())
        new -= chosen.get(h, set())
        if not new:
            continue
        cost = sum(_line_cost(lines[j][1]) for j in new) + (_HEADER_COST if h not in chosen else 3)
        if used + cost > budget:
            continue
        chosen.setdefault(h, set()).update(new)
        taken[h] += 1
        used += cost
    if not chosen and hits and all_lines[0]:  # nothing meets the question: the best hit's opening lines
        first = select(hits[0], terms, budget, repo, weights)
        return [first] if first is not None else []
    out: list[Excerpt] = []
    for h in sorted(chosen):  # rank order
        lines = all_lines[h]
        whole_cost = sum(_line_cost(t) for _, t in lines) + _HEADER_COST
        mine = sum(_line_cost(lines[j][1]) for j in chosen[h]) + _HEADER_COST
        if whole_cost - mine <= budget - used:
            used += whole_cost - mine
            out.append(Excerpt(hits[h], tuple(lines), partial=False))
        else:
            out.append(Excerpt(hits[h], tuple(lines[j] for j in sorted(chosen[h])), partial=True))
    return out
