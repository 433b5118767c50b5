"""Shared fixtures. Sockets are blocked (pytest-socket, see pyproject) except loopback."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

from scripts.harness.repos import SAMPLE_FILES as SAMPLE_FILES  # the sample repo, re-exported for the tests
from scripts.harness.repos import make_repo as make_repo

# `make test` (CI) runs the property tests on a fixed seed, so a pass or a failure is reproducible and a rare
# random example never fails an unrelated change; the reliability report (and MENTOR_FUZZ_RANDOM=1) explores.
_hypothesis_settings.register_profile("fixed", derandomize=True, database=None)
_hypothesis_settings.register_profile("explore")
_hypothesis_settings.load_profile("explore" if os.environ.get("MENTOR_FUZZ_RANDOM") == "1" else "fixed")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test writes its app data under a temp folder, never the user's home."""
    home = tmp_path_factory.mktemp("mentor-home")
    old = os.environ.get("MENTOR_HOME")
    os.environ["MENTOR_HOME"] = str(home)
    # A frozen copy of the pattern library: indexes built in one session all see the same cards.
    if not os.environ.get("MENTOR_KNOWLEDGE_DIR"):
        cards = home / "knowledge"
        shutil.copytree(ROOT / "knowledge", cards)
        os.environ["MENTOR_KNOWLEDGE_DIR"] = str(cards)
    from mentor_local import offline

    offline.apply()
    yield home
    if old is None:
        os.environ.pop("MENTOR_HOME", None)
    else:
        os.environ["MENTOR_HOME"] = old


@pytest.fixture()
def sample_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def have(cmd: str) -> bool:
    return shutil.which(cmd) is not None
