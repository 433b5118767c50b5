"""Checking what an answer points at: ``path:line`` citations and identifiers.

Two jobs, both pure:

* ``check_citations`` finds every ``path:line`` / ``path:start-end`` in a text,
  marks each valid only when the range lies inside a source the model was
  given, and removes the unbacked ones from the text.
* ``Vocabulary.sentence_ok`` decides whether a sentence the model wrote may be
  shown: it must not name an identifier, a path or a ``path:line`` that the
  sources do not contain (small models invent APIs fluently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mentor_local.domain import Citation

_PATH = r"(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[A-Za-z][A-Za-z0-9]{0,7}"
CITATION_RE = re.compile(rf"(?<![\w/.-])(?P<path>{_PATH}):(?P<start>\d+)(?:[-–](?P<end>\d+))?(?!\d)")
# A citation with the decoration around it (backticks, brackets) so removing it leaves clean text.
_DECORATED = re.compile(rf"\s?[`(\[]*(?<![\w/.-])(?P<path>{_PATH}):(?P<start>\d+)(?:[-–](?P<end>\d+))?(?!\d)[`)\]]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?![\w(])")
_SNAKE = re.compile(r"(?<![\w.])\w*_\w*(?![\w])")
_CALL = re.compile(r"(?<![\w])([A-Za-z_][\w.]*)\s?\(")
_CAMEL = re.compile(r"(?<![\w.])[A-Z][a-z0-9]+[A-Z]\w*")
_PATHLIKE = re.compile(rf"(?<![\w/.-])(?:{_PATH}|(?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.-]+)")
_BACKTICK = re.compile(r"`([^`\n]+)`")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "a.k.a"}
_FILE_EXTS = {"py", "md", "toml", "cfg", "ini", "txt", "json", "yaml", "yml", "sql", "sh", "js", "ts", "html", "pyi"}


@dataclass(frozen=True)
class SourceRange:
    """A range of a file that was shown to the model (a hit, or a finding's lines)."""

    path: str
    start_line: int
    end_line: int


def find_citations(text: str) -> list[tuple[str, int, int]]:
    """Every ``path:line`` / ``path:start-end`` in ``text``, in order of appearance."""
    out: list[tuple[str, int, int]] = []
    for m in CITATION_RE.finditer(text):
        start = int(m.group("start"))
        end = int(m.group("end") or start)
        out.append((m.group("path"), start, max(start, end)))
    return out


def is_backed(path: str, start: int, end: int, sources: Iterable[SourceRange]) -> bool:
    return any(s.path == path and s.start_line <= start and end <= s.end_line for s in sources)


def check_citations(text: str, sources: Iterable[SourceRange]) -> tuple[str, list[Citation]]:
    """Return ``text`` with unbacked citations removed, and every citation found (deduplicated)."""
    ranges = list(sources)
    seen: dict[tuple[str, int, int], Citation] = {}
    for path, start, end in find_citations(text):
        key = (path, start, end)
        if key not in seen:
            seen[key] = Citation(path=path, start_line=start, end_line=end, valid=is_backed(path, start, end, ranges))
    if all(c.valid for c in seen.values()):
        return text, list(seen.values())

    def _drop(m: re.Match[str]) -> str:
        start = int(m.group("start"))
        end = max(start, int(m.group("end") or start))
        return m.group(0) if is_backed(m.group("path"), start, end, ranges) else ""

    cleaned = _DECORATED.sub(_drop, text)
    cleaned = re.sub(r"\(\s*\)|\[\s*\]|``", "", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    cleaned = re.sub(r" +([,.;:])", r"\1", cleaned)
    return cleaned, list(seen.values())


@dataclass
class Vocabulary:
    """Everything the sources name: words, dotted names, paths, citable ranges."""

    words: set[str] = field(default_factory=set)
    dotted: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    ranges: list[SourceRange] = field(default_factory=list)
    text: str = ""
    anchors: set[str] = field(default_factory=set)
    """Names of the retrieved code and files: a grounded sentence mentions one."""

    @classmethod
    def build(cls, texts: Iterable[str], paths: Iterable[str], ranges: Iterable[SourceRange],
              names: Iterable[str] = ()) -> Vocabulary:
        vocab = cls()
        chunks: list[str] = []
        for t in list(texts) + list(names):
            chunks.append(t)
            vocab.words.update(_WORD.findall(t))
            vocab.dotted.update(_DOTTED.findall(t))
        for name in names:
            parts = name.split(".")
            vocab.anchors.update({name, parts[-1]} if len(parts[-1]) > 2 else {name})
            # ``pkg.mod.Class.method`` also backs ``Class.method`` and ``mod.Class``.
            for i in range(len(parts)):
                for j in range(i + 2, len(parts) + 1):
                    vocab.dotted.add(".".join(parts[i:j]))
        for p in paths:
            vocab.anchors.update({p, p.rsplit("/", 1)[-1]})
            vocab.paths.add(p)
            vocab.paths.add(p.rsplit("/", 1)[-1])
            vocab.words.update(_WORD.findall(p))
        vocab.ranges = list(ranges)
        vocab.text = "\n".join(chunks)
        return vocab

    def _identifier_ok(self, ident: str) -> bool:
        ident = ident.strip("`'\".,:;()[]{} ")
        if not ident:
            return True
        if ident.lower().rstrip(".") in _ABBREVIATIONS:
            return True
        if "." in ident:
            last = ident.rsplit(".", 1)[-1].lower()
            if last in _FILE_EXTS:
                return ident in self.paths
            return ident in self.dotted or ident in self.text
        return ident in self.words

    def problems(self, sentence: str) -> list[str]:
        """Names in ``sentence`` that the sources do not back (empty list: the sentence may be shown)."""
        bad: list[str] = []
        for path, start, end in find_citations(sentence):
            if not is_backed(path, start, end, self.ranges):
                bad.append(f"{path}:{start}-{end}")
        stripped = CITATION_RE.sub(" ", sentence)
        for m in _PATHLIKE.finditer(stripped):
            token = m.group(0).rstrip(".")
            is_file = "/" in token or token.rsplit(".", 1)[-1].lower() in _FILE_EXTS
            if is_file and token not in self.paths:
                bad.append(token)
        candidates: list[str] = []
        candidates += [c for c in _DOTTED.findall(stripped) if c.rsplit(".", 1)[-1].lower() not in _FILE_EXTS]
        candidates += _SNAKE.findall(stripped)
        candidates += _CALL.findall(stripped)
        candidates += _CAMEL.findall(stripped)
        for span in _BACKTICK.findall(stripped):
            candidates += _WORD.findall(span) if not _PATHLIKE.fullmatch(span) else []
        for c in candidates:
            if c and not c.isdigit() and not self._identifier_ok(c):
                bad.append(c)
        return bad

    def mentions_source(self, sentence: str) -> bool:
        """Whether ``sentence`` names a retrieved function, class or file."""
        return any(re.search(rf"(?<![\w.]){re.escape(a)}(?![\w])", sentence) for a in self.anchors if a)

    def sentence_ok(self, sentence: str) -> bool:
        return not self.problems(sentence)
