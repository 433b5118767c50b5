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
    └── BackendError                 exit 1: a remote server failed

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
