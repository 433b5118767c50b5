"""Errors that reach users, each with a message that says what to do.

The tree::

    MentorError                      exit 1 (unexpected)
    ├── UserInputError               exit 2
    │   ├── BadPathError             a path that does not exist / is not a directory
    │   ├── ConfigError              unreadable mentor.toml or a bad setting
    │   ├── ModelError               a missing, truncated or unloadable model
    │   └── IndexMissingError        no index yet for this repo
    ├── IndexMismatchError           exit 2: made by another embedder/chunker
    ├── IndexCorruptError            exit 2: the store cannot be read
    ├── IndexBusyError               exit 3: another process holds the index
    ├── DiskFullError                exit 1: no space left; the last complete index is kept
    └── BackendError                 exit 1: a remote server failed
        └── ModelCrashed             exit 1: the model's own process died (a signal, OOM); the next call restarts it

The CLI is the one place that turns these into exit codes (``exit_code``).
"""

from __future__ import annotations


class MentorError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        msg = " ".join(self.message.split())
        if self.hint:
            msg = f"{msg} — {' '.join(self.hint.split())}"
        return msg


class UserInputError(MentorError):
    exit_code = 2


class BadPathError(UserInputError):
    pass


class ConfigError(UserInputError):
    pass


class ModelError(UserInputError):
    pass


class IndexMissingError(UserInputError):
    pass


class IndexMismatchError(MentorError):
    exit_code = 2


class IndexCorruptError(MentorError):
    exit_code = 2


class IndexBusyError(MentorError):
    exit_code = 3


class BackendError(MentorError):
    exit_code = 1


class ModelCrashed(BackendError):
    """The model's process died mid-call (SIGILL, SIGSEGV, the OOM killer, an exit); the next call starts a fresh one."""


class DiskFullError(MentorError):
    exit_code = 1


def is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it) is ENOSPC, as Python, SQLite or Chroma report it."""
    import errno

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if "disk is full" in text or "no space left" in text or "disk quota exceeded" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
