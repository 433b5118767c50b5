"""`profile()` on small repos and the fixture; the `mentor review` / `mentor profile` command lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mentor_local.analysis.profile import profile
from mentor_local.cli import run
from mentor_local.errors import BadPathError

from .conftest import FIXTURE, write_repo


def test_profile_fixture() -> None:
    p = profile(FIXTURE)
    assert p.python_version == "3.12"
    assert p.dependency_manager == "uv"
    for name in ("FastAPI", "SQLAlchemy", "Celery", "pandas", "pydantic", "httpx", "requests", "Flask", "Alembic"):
        assert name in p.frameworks
    assert p.test_framework == "pytest"
    assert p.type_checker == "mypy"
    assert set(p.entry_points) == {"app/main.py:app", "app/worker/celery_app.py:celery_app", "legacy/status_app.py:app"}
    assert 0.1 < p.async_share < 0.5


def test_profile_poetry_django_repo(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "pyproject.toml": """
            [tool.poetry]
            name = "shop"
            [tool.poetry.dependencies]
            python = "^3.10"
            django = "^5.0"
            dramatiq = "^1.16"
            [tool.pyright]
            """,
        "poetry.lock": "# lock\n",
        "shop/wsgi.py": """
            from django.core.wsgi import get_wsgi_application
            application = get_wsgi_application()
            """,
        "shop/views.py": """
            import numpy as np
            def a(): pass
            async def b(): pass
            async def c(): pass
            def d(): pass
            """,
        "tests/test_views.py": "import unittest\n",
    })
    p = profile(tmp_path)
    assert p.python_version == "^3.10"
    assert p.dependency_manager == "poetry"
    assert p.frameworks == ["Django", "Dramatiq", "numpy"]
    assert p.async_share == 0.5
    assert p.test_framework == "unittest"
    assert p.type_checker == "pyright"
    assert p.entry_points == ["shop/wsgi.py:application"]


def test_profile_requirements_and_dockerfile(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "requirements.txt": "flask==3.0.0\nrq>=1.15  # queue\n",
        "Dockerfile": "FROM python:3.11-slim\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    })
    p = profile(tmp_path)
    assert (p.python_version, p.dependency_manager) == ("3.11", "pip")
    assert p.frameworks == ["Flask", "RQ"]
    assert p.entry_points == ["app.py:app"]
    assert p.test_framework is None and p.type_checker is None


def test_profile_empty_and_bad_path(tmp_path: Path) -> None:
    p = profile(tmp_path)
    assert p.frameworks == [] and p.async_share == 0.0 and p.dependency_manager is None
    with pytest.raises(BadPathError):
        profile(tmp_path / "missing")


def test_cli_review_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["review", str(FIXTURE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and data
    keys = {"path", "line", "end_line", "topic", "rule", "severity", "message", "card", "confidence", "why"}
    assert all(set(item) == keys for item in data)
    assert all(item["confidence"] == "high" and item["why"] for item in data)
    assert run(["review", str(FIXTURE), "--json", "--all"]) == 0
    every = json.loads(capsys.readouterr().out)
    assert len(every) > len(data) and {i["confidence"] for i in every} >= {"high", "medium"}


def test_cli_review_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["review", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "HIGH" in out and "blocking-call-in-async" in out and "app/api/users.py:37" in out


def test_cli_profile_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["profile", str(FIXTURE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"python_version", "dependency_manager", "frameworks", "async_share", "test_framework",
                         "type_checker", "entry_points"}
    assert run(["profile", str(FIXTURE)]) == 0
    assert "Dependency manager: uv" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["review", "profile"])
def test_cli_bad_path_exits_2(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([command, str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
