"""Run the real ``MentorApp`` over the fake backend, for the tmux test: ``python tests/tui/fake_app.py REPO HOME``.

Everything that reaches the terminal (keys, paint, quit) is the real app; only the
index, model and review are the scripted fakes, so the test runs in seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mentor_local.settings import Settings  # noqa: E402
from mentor_local.tui.app import MentorApp  # noqa: E402
from tests.tui.fakes import FakeBackend  # noqa: E402


def main() -> None:
    repo, home = Path(sys.argv[1]), Path(sys.argv[2])
    backend = FakeBackend(repo, mentor_delay=0.05)
    MentorApp(repo, settings=Settings(home=home), home=home, **backend.app_kwargs()).run()


if __name__ == "__main__":
    main()
