"""Turn the model's streamed Markdown into the six sections, checked sentence by sentence.

The model writes the six ``###`` sections in one generation. This parser owns the structure:

* headings are recognised however the model spells them (``### Learning Points``, ``**2. Learning
  Points**``) and re-emitted canonically, in order; a section the model skipped is filled from
  facts, a repeated or out-of-order heading is ignored (its text joins the current section);
* prose is released a sentence at a time, each sentence checked (``SentenceCheck``) before anyone
  sees it; a bullet's marker is emitted with its first kept sentence;
* a fenced code block is released whole, when it parses;
* what the tool itself owns in a section (the findings list, the card list) is added when the
  model leaves that section, before the next heading.

Pure: the caller feeds text pieces and gets back text to show.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mentor_local.answer.checks import SentenceCheck
from mentor_local.domain import SECTION_NAMES

_BULLET = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)")
_HEADING_MARKS = re.compile(r"^[#*\s\d.):_-]+|[*:_\s]+$")
_SENTENCE_END = re.compile(r"(?<![A-Za-z]\.[a-z])(?<!\be\.g)(?<!\bi\.e)(?<!\betc)[.!?](?=\s)")
_NORMAL = {name.lower(): i for i, name in enumerate(SECTION_NAMES)}


def heading_index(line: str) -> int | None:
    """The section a heading-looking line names (``None``: not a heading of ours)."""
    s = line.strip()
    if not s or not (s.startswith(("#", "**", "__")) or re.match(r"^\d+[.)]\s", s)):
        return None
    name = _HEADING_MARKS.sub("", s).strip().lower().rstrip(":").strip()
    name = re.sub(r"\s+", " ", name)
    if name in _NORMAL:
        return _NORMAL[name]
    for full, i in _NORMAL.items():  # "Backend Architecture" / "Code Evolution" and other short forms
        if len(name) >= 8 and full.startswith(name):
            return i
    return None


class SectionStream:
    """Feed model text with ``feed``; it returns what to show. ``finish`` closes the answer.

    ``fill(i)`` gives the facts for a section the model left empty; ``extras(i)`` the tool's own
    part of a section, shown after the model's text (``""``: none).
    """

    def __init__(self, check: SentenceCheck, *, fill: Callable[[int], str], extras: Callable[[int], str],
                 started: bool = True) -> None:
        self.check = check
        self._fill = fill
        self._extras = extras
        self.current = 0 if started else -1
        self.texts: list[str] = ["" for _ in SECTION_NAMES]
        """Everything shown per section (facts, the model's kept text, the tool's extras)."""
        self.model_texts: list[str] = ["" for _ in SECTION_NAMES]
        self.filled: list[str] = []
        self._model_said = [False for _ in SECTION_NAMES]
        self._buf = ""
        self._fence: list[str] | None = None
        self._fence_lang = ""
        self._line_open = False  # part of the current line was shown
        self._prefix = ""  # a bullet marker waiting for its first kept sentence
        self._blank = True  # the last thing shown ended a paragraph

    # -- output helpers -------------------------------------------------------------------------
    def _emit(self, text: str, *, model: bool = True) -> str:
        if text and self.current >= 0:
            self.texts[self.current] += text
            if model:
                self.model_texts[self.current] += text
                if text.strip():
                    self._model_said[self.current] = True
        return text

    def start_section(self, i: int, facts: str = "") -> str:
        """The heading of section ``i`` (and its facts, shown before the model writes)."""
        self.current = i
        head = ("\n\n" if i else "") + f"### {SECTION_NAMES[i]}\n\n"
        self._blank = True
        out = head
        if facts:
            self.texts[i] += facts + "\n\n"
            out += facts + "\n\n"
        return out

    def _close_section(self) -> str:
        i = self.current
        if i < 0:
            return ""
        out = self._end_line()
        if not self._model_said[i]:
            self.filled.append(SECTION_NAMES[i])
            fill = self._fill(i)
            if fill:
                out += self._emit(("" if self._blank else "\n\n") + fill + "\n", model=False)
                self._blank = False
        extra = self._extras(i)
        if extra:
            out += self._emit(("\n" if self._blank or out.endswith("\n") else "\n\n") + extra, model=False)
        return out

    def _goto(self, target: int) -> str:
        out = ""
        while self.current < target:
            out += self._close_section()
            out += self.start_section(self.current + 1)
        return out

    def _end_line(self) -> str:
        self._prefix = ""
        if self._line_open:
            self._line_open = False
            return self._emit("\n")
        return ""

    # -- model text -----------------------------------------------------------------------------
    def _sentences(self, text: str, *, final: bool) -> tuple[str, str]:
        """Check and show the complete sentences of ``text`` (all of it when ``final``); (shown, rest)."""
        out = ""
        pieces: list[str] = []
        last = 0
        for m in _SENTENCE_END.finditer(text):
            pieces.append(text[last: m.end()])
            last = m.end()
        rest = text[last:]
        if final and rest.strip():
            pieces.append(rest)
            rest = ""
        for piece in pieces:
            sentence = piece.strip()
            if not sentence:
                continue
            if self.check.keep(sentence):
                if not self._line_open:
                    out += self._emit(self._prefix + sentence)
                    self._prefix = ""
                    self._line_open = True
                    self._blank = False
                else:
                    out += self._emit(" " + sentence)
        return out, rest

    def _line(self, line: str) -> str:
        idx = heading_index(line)
        if idx is not None:
            out = self._end_line()
            if idx > self.current:
                out += self._goto(idx)
            return out
        stripped = line.strip()
        if stripped.startswith("```"):
            out = self._end_line()
            self._fence = []
            self._fence_lang = stripped[3:].strip()
            return out
        if not stripped:
            out = self._end_line()
            if not self._blank and self.current >= 0:
                out += self._emit("\n")
                self._blank = True
            return out
        if stripped.startswith("#") or stripped.startswith("---"):
            return self._end_line()  # a heading of the model's own: not one of ours, not shown
        if self.current < 0:
            out = self.start_section(0)
        else:
            out = ""
        body = line if self._line_open else stripped
        if not self._line_open:
            m = _BULLET.match(line)
            if m is not None:
                self._prefix = m.group(1).lstrip()
                body = line[m.end():]
        out += self._sentences(body, final=True)[0]
        return out + self._end_line()

    def feed(self, piece: str) -> str:
        self._buf += piece
        out = ""
        while True:
            if self._fence is not None:
                if "\n" not in self._buf:
                    return out
                line, self._buf = self._buf.split("\n", 1)
                if line.strip().startswith("```"):
                    block = "\n".join(self._fence)
                    if block.strip() and self.check.keep_code(block, self._fence_lang):
                        lead = "" if self._blank else "\n"
                        out += self._emit(f"{lead}```python\n{block}\n```\n")
                        self._blank = False
                    self._fence = None
                else:
                    self._fence.append(line)
                continue
            if "\n" in self._buf:
                line, self._buf = self._buf.split("\n", 1)
                if self._line_open:  # the rest of a line whose first sentences were shown already
                    out += self._sentences(line, final=True)[0] + self._end_line()
                else:
                    out += self._line(line)
                continue
            head = self._buf.lstrip()
            if not head or head.startswith(("#", "`", "*", "_", "|")) or re.match(r"^\d+[.)]?$", head):
                return out  # may become a heading or a fence: wait for the line
            if self.current < 0:
                out += self.start_section(0)
            if not self._line_open and not self._prefix:  # a line's marker is taken once ("- 2. x" keeps "2.")
                m = _BULLET.match(self._buf)
                if m is None and re.match(r"^\s*(?:[-*+]|\d+[.)])?\s*$", self._buf):
                    return out
                if m is not None:
                    self._prefix = m.group(1).lstrip()
                    self._buf = self._buf[m.end():]
            shown, self._buf = self._sentences(self._buf, final=False)
            return out + shown

    def finish(self) -> str:
        """End of the model's text: an unfinished last sentence is dropped, missing sections are filled."""
        out = ""
        if self._fence is not None:
            self._fence = None  # an unclosed block was cut by the token limit: not shown
        elif self._buf.strip():
            tail = self._buf
            self._buf = ""
            if heading_index(tail) is None and tail.rstrip()[-1:] in ".!?":
                out += self._line(tail) if not self._line_open else self._sentences(tail, final=True)[0]
        out += self._end_line()
        out += self._goto(len(SECTION_NAMES) - 1)
        out += self._close_section()
        return out
