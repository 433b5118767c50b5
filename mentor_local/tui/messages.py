"""Messages that carry work results from thread workers to the UI (never touch widgets from a thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from mentor_local.errors import MentorError

if TYPE_CHECKING:
    from mentor_local.domain import Answer, Finding, IndexReport
    from mentor_local.tui.backend import AppIndex, IndexStatus, MentorLike, ModelInfo


def error_text(exc: BaseException, what: str) -> str:
    """A worker's failure as one line: a ``MentorError`` says its fix; anything else says what failed and how."""
    if isinstance(exc, MentorError):
        return exc.one_line()
    return f"{what}: {type(exc).__name__}: {exc}"


class TokensArrived(Message):
    """A batch of answer text, already cleaned of control characters."""

    def __init__(self, turn_id: int, text: str) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.text = text


class AnswerFinished(Message):
    def __init__(self, turn_id: int, question: str, answer: Answer) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.question = question
        self.answer = answer


class AnswerFailed(Message):
    """Generation failed or was cancelled; ``error`` says what happened and how to fix it."""

    def __init__(self, turn_id: int, question: str, error: str, *, cancelled: bool = False,
                 crashed: bool = False) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.question = question
        self.error = error
        self.cancelled = cancelled
        self.crashed = crashed  # the model's process died; the next question starts a fresh one


class IndexOpened(Message):
    def __init__(self, index: AppIndex, status: IndexStatus | None) -> None:
        super().__init__()
        self.index = index
        self.status = status


class IndexMissing(Message):
    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class IndexProblem(Message):
    """The index could not be opened (locked, corrupt, mismatched); ``error`` carries the fix."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class MentorReady(Message):
    def __init__(self, mentor: MentorLike, info: ModelInfo) -> None:
        super().__init__()
        self.mentor = mentor
        self.info = info


class ModelProblem(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class IndexProgress(Message):
    def __init__(self, stage: str, done: int, total: int) -> None:
        super().__init__()
        self.stage = stage
        self.done = done
        self.total = total


class IndexBuilt(Message):
    def __init__(self, report: IndexReport | None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class FindingsReady(Message):
    def __init__(self, findings: list[Finding], error: str | None = None) -> None:
        super().__init__()
        self.findings = findings
        self.error = error
