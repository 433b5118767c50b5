"""`mentor profile` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse

from mentor_local.errors import MentorError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("profile", help="(not built yet)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    raise MentorError("'mentor profile' is not built yet")
