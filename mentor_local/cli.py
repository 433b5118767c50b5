"""The ``mentor`` command: subcommands live in ``mentor_local.commands``.

This is the one place where errors become exit codes: 0 success, 2 the user's
input is wrong, 3 the index is busy, 1 anything unexpected.  Every non-zero
exit prints one line that says what happened and what to do.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from mentor_local.errors import MentorError

COMMANDS = ("index", "search", "review", "profile", "ask", "doctor")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mentor",
        description=(
            "An offline Python mentor for SaaS backends. Index a repo, search it, review it, "
            "and ask questions answered from your own code by a local model. Nothing leaves this machine."
        ),
        epilog="Start with: mentor index . && mentor ask 'where could this app lose data?' --repo .",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from mentor_local import __version__

    parser.add_argument("--version", action="version", version=f"mentor-local {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"mentor_local.commands.{name}").register(sub)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not vars(args).get("handler"):
        parser.print_help()
        return 2
    try:
        code: int = args.handler(args)
        return code
    except MentorError as exc:
        print(f"mentor: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mentor: interrupted; nothing half-written is kept — run the command again to finish", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the boundary: anything unexpected becomes one line
        if os.environ.get("MENTOR_DEBUG"):
            raise
        print(
            f"mentor: unexpected error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
            "(rerun with MENTOR_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


def main(argv: Sequence[str] | None = None) -> NoReturn:
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
