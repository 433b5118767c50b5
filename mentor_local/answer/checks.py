"""What the model may say: every sentence is checked against what it was given before anyone sees it.

A sentence is dropped (and counted, by reason) when it

* ``citation``: cites a ``path:line`` outside the code it was shown;
* ``identifier``: names an identifier, dotted name or file that appears in neither the code, the
  findings, the profile nor the pattern cards it was given (small models invent APIs fluently);
* ``card-claim``: says the repository does something that only a pattern card mentions
  ("the code migrates legacy md5 hashes", when only a card talks of md5), or says it in a card's own
  words ("the code already validates request bodies and other input using typed values", four
  content-bearing words in a row from a card and not from the code) — a card is general guidance,
  never a fact about this code;
* ``absence``: claims the code lacks something while the model saw only an excerpt of that code
  ("the OAuth callback does not check the CSRF state", of a function whose check was not shown);
* ``repeat``: repeats an earlier sentence word for word (small models loop).

Pure: the caller builds a ``Grounds`` from what went into the prompt.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

from mentor_local.answer.citations import SourceRange, Vocabulary

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TECH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_BACKTICK = re.compile(r"`([^`\n]+)`")
_FENCE_CODE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
_ATTRIBUTION = re.compile(
    r"\b(your|the|this) (code|repo|repository|project|app|application|codebase|function|method|class|module|"
    r"implementation|view|handler|endpoint)s?\b|\b(currently|already|here)\b|\bit (uses|does|stores|hashes|"
    r"migrates|calls|checks|validates)\b",
    re.I,
)
_ADVICE = re.compile(r"^\W*(consider|use|add|replace|switch|prefer|try|avoid|make sure|ensure|to |you (could|can|"
                     r"should|might)|if you|a common|in general|for example|generally)\b|\bconsider\b", re.I)
_ABSENCE = re.compile(
    r"\b(does not|doesn't|do not|don't|did not|is not|isn't|are not|aren't|lacks?|lacking|missing|there is no|"
    r"there are no|has no|have no|no (?:\w+ )?(?:check|checks|validation|protection|handling|timeout|retry|retries|"
    r"logging|verification|limit|lock|guard))\b",
    re.I,
)
REASONS = ("citation", "identifier", "card-claim", "absence", "repeat", "code")
_STOP = frozenset("a an and are as at be by for from in into is it its of on or that the their then this to with "
                  "your you every each once other".split())


def _stem(word: str) -> str:
    """validate, validates, validated, validating → validat; bodies → bodi (the same stem for the same word)."""
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def phrases(text: str) -> set[tuple[str, ...]]:
    """Runs of four words (stemmed, lower-case) with at least two content words of four letters or more."""
    words = [_stem(w.lower()) for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", text)]
    out: set[tuple[str, ...]] = set()
    for i in range(len(words) - 3):
        run = tuple(words[i:i + 4])
        if sum(1 for w in run if w not in _STOP and len(w) >= 4) >= 2:
            out.add(run)
    return out


def _is_technical(token: str) -> bool:
    """Identifier-shaped: snake_case, dotted, CamelCase inside, or letters with digits (md5, sha1)."""
    return ("_" in token.strip("_") or "." in token or re.search(r"[a-z][A-Z]", token) is not None
            or (re.search(r"\d", token) is not None and re.search(r"[A-Za-z]", token) is not None))


@dataclass
class Grounds:
    """What the model was given, as the check needs it."""

    vocab: Vocabulary
    code_words: set[str] = field(default_factory=set)
    """Lower-case words and identifier parts of the code, findings, profile and question."""
    card_terms: set[str] = field(default_factory=set)
    """Lower-case technical terms that only the pattern cards name (never the code)."""
    anchors_partial: dict[str, bool] = field(default_factory=dict)
    """Each shown code name/path → whether the model saw only an excerpt of it."""
    card_phrases: set[tuple[str, ...]] = field(default_factory=set)
    """Four-word runs of the cards' text that the code, findings, profile and question do not contain."""

    @classmethod
    def build(cls, *, code_texts: Iterable[str], card_texts: Iterable[str], other_texts: Iterable[str],
              paths: Iterable[str], ranges: Iterable[SourceRange], names: Iterable[str],
              partial: dict[str, bool]) -> Grounds:
        code_texts, card_texts, other_texts = list(code_texts), list(card_texts), list(other_texts)
        names, paths = list(names), list(paths)
        vocab = Vocabulary.build(code_texts + card_texts + other_texts, paths, ranges, names)
        code_words: set[str] = set()
        for t in code_texts + other_texts + names + paths:
            for w in _WORD.findall(t):
                code_words.add(w.lower())
                code_words.update(p.lower() for p in re.split(r"_|(?<=[a-z])(?=[A-Z])", w) if p)
        card_terms: set[str] = set()
        for t in card_texts:
            spans = _BACKTICK.findall(t) + _FENCE_CODE.findall(t)
            whole = {s.strip() for s in spans}
            for tok in _TECH.findall(t) + [w for s in spans for w in _WORD.findall(s)]:
                low = tok.lower()
                if len(low) < 3 or low in code_words or not (_is_technical(tok) or tok in whole):
                    continue  # a plain word inside a card's code (`current_user`'s "current") is not the card's term
                if "." in low and all(part in code_words for part in low.split(".")):
                    continue  # `decimal.Decimal` when the code imports decimal and uses Decimal
                card_terms.add(low)
        ours = set().union(*(phrases(t) for t in code_texts + other_texts)) if code_texts + other_texts else set()
        card_phrases = set().union(*(phrases(t) for t in card_texts)) - ours if card_texts else set()
        return cls(vocab=vocab, code_words=code_words, card_terms=card_terms, anchors_partial=dict(partial),
                   card_phrases=card_phrases)


@dataclass
class CheckStats:
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {r: 0 for r in REASONS})
    examples: list[tuple[str, str]] = field(default_factory=list)
    """(reason, sentence) of the first dropped sentences, for debugging and the benchmark."""

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def drop(self, reason: str, sentence: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        if len(self.examples) < 20:
            self.examples.append((reason, sentence))


class SentenceCheck:
    """Decides, sentence by sentence, what of the model's text is shown."""

    def __init__(self, grounds: Grounds) -> None:
        self.grounds = grounds
        self.stats = CheckStats()
        self._seen: set[str] = set()

    def reason(self, sentence: str) -> str | None:
        """Why ``sentence`` must be dropped, or ``None`` when it may be shown."""
        g = self.grounds
        norm = " ".join(sentence.lower().split())
        if len(norm) > 24 and norm in self._seen:
            return "repeat"
        problems = g.vocab.problems(sentence)
        if any(":" in p and p.rsplit(":", 1)[-1][:1].isdigit() for p in problems):
            return "citation"
        if problems:
            return "identifier"
        if _ATTRIBUTION.search(sentence) or g.vocab.mentions_source(sentence):
            if not _ADVICE.search(sentence):
                words = {w.lower() for w in _TECH.findall(sentence)}
                words |= {w.lower() for w in _WORD.findall(sentence)}
                if words & g.card_terms or phrases(sentence) & g.card_phrases:
                    return "card-claim"
            if _ABSENCE.search(sentence) and self._about_partial_code(sentence):
                return "absence"
        return None

    def _about_partial_code(self, sentence: str) -> bool:
        named = [a for a in self.grounds.anchors_partial
                 if re.search(rf"(?<![\w.]){re.escape(a)}(?![\w])", sentence)]
        if named:
            return any(self.grounds.anchors_partial[a] for a in named)
        return any(self.grounds.anchors_partial.values())  # "the code does not …" about whatever was shown

    def keep(self, sentence: str) -> bool:
        """Check one sentence; count it as kept or dropped."""
        why = self.reason(sentence)
        if why is None:
            self.stats.kept += 1
            self._seen.add(" ".join(sentence.lower().split()))
            return True
        self.stats.drop(why, sentence)
        return False

    def keep_code(self, block: str, lang: str) -> bool:
        """A fenced block is shown when it is Python that parses (a sketch of a change may name new things)."""
        if lang and lang.lower() not in ("python", "py", "python3"):
            self.stats.drop("code", block[:80])
            return False
        try:
            ast.parse(textwrap.dedent(block))
        except SyntaxError:
            self.stats.drop("code", block[:80])
            return False
        self.stats.kept += 1
        return True
