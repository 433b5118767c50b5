"""``profile(path)``: what a repo is — Python version, dependency manager, frameworks, async share,
test framework, type checker and entry points — from its config files and a regex pass over its code.

Fast by design (no parsing): one discovery walk (the same one indexing uses), then plain reads.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mentor_local.domain import RepoProfile
from mentor_local.paths import check_repo

# display name, distribution names, import names
FRAMEWORKS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("FastAPI", ("fastapi", "fastapi-slim"), ("fastapi",)),
    ("Starlette", ("starlette",), ("starlette",)),
    ("Flask", ("flask",), ("flask",)),
    ("Django", ("django",), ("django",)),
    ("Django REST framework", ("djangorestframework",), ("rest_framework",)),
    ("Litestar", ("litestar",), ("litestar",)),
    ("Quart", ("quart",), ("quart",)),
    ("Sanic", ("sanic",), ("sanic",)),
    ("Tornado", ("tornado",), ("tornado",)),
    ("SQLAlchemy", ("sqlalchemy", "flask-sqlalchemy"), ("sqlalchemy", "flask_sqlalchemy")),
    ("SQLModel", ("sqlmodel",), ("sqlmodel",)),
    ("Alembic", ("alembic",), ("alembic",)),
    ("Tortoise ORM", ("tortoise-orm",), ("tortoise",)),
    ("Celery", ("celery",), ("celery",)),
    ("RQ", ("rq",), ("rq",)),
    ("arq", ("arq",), ("arq",)),
    ("Dramatiq", ("dramatiq",), ("dramatiq",)),
    ("pandas", ("pandas",), ("pandas",)),
    ("numpy", ("numpy",), ("numpy",)),
    ("pydantic", ("pydantic", "pydantic-settings"), ("pydantic", "pydantic_settings")),
    ("httpx", ("httpx",), ("httpx",)),
    ("requests", ("requests",), ("requests",)),
    ("aiohttp", ("aiohttp",), ("aiohttp",)),
    ("Redis", ("redis",), ("redis",)),
    ("asyncpg", ("asyncpg",), ("asyncpg",)),
    ("psycopg", ("psycopg", "psycopg2", "psycopg2-binary", "psycopg-binary"), ("psycopg", "psycopg2")),
)
_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.M)
_ASYNC_DEF = re.compile(r"^[ \t]*async[ \t]+def[ \t]", re.M)
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]", re.M)
_APP_OBJECT = re.compile(
    r"^(\w+)[ \t]*(?::[^=\n]+)?=[ \t]*(?:\w+\.)*(FastAPI|Starlette|Flask|Quart|Litestar|Sanic|Celery|"
    r"get_asgi_application|get_wsgi_application|Application|Dramatiq|RedisBroker|RabbitmqBroker)\(",
    re.M,
)
_ROOT_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile", "Pipfile.lock", "requirements.in", "pytest.ini",
               "mypy.ini", ".mypy.ini", "pyrightconfig.json", ".pyre_configuration", "environment.yml",
               "environment.yaml", "conda-lock.yml", "setup.py", "setup.cfg", "pyproject.toml", "tox.ini")
_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$")
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")
_CONDA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a conda spec's name: up to its version or build


def profile(path: str | Path, *, max_file_bytes: int = 1_000_000) -> RepoProfile:
    """Describe the repo at ``path``."""
    from mentor_local.indexing.discover import discover, read_text

    repo = check_repo(path)
    files, _ = discover(repo, max_file_bytes=max_file_bytes)
    # lock files and tool configs are not "indexable" text, so discovery skips them: look at the root directly
    rel = {f.path for f in files} | {n for n in _ROOT_FILES if (repo / n).is_file()}
    pyproject = _toml(repo / "pyproject.toml") if "pyproject.toml" in rel else {}

    imports: set[str] = set()
    async_defs = defs = 0
    entry_points: list[str] = []
    has_unittest = has_pytest = False
    for f in files:
        if not f.path.endswith(".py"):
            continue
        text, _reason = read_text(f.abspath)
        if text is None:
            continue
        mods = set(_IMPORT.findall(text))
        if _TEST_PATH.search(f.path):
            # tests (and their fixtures) say how the project is tested, not what it runs on
            has_unittest = has_unittest or "unittest" in mods
            has_pytest = has_pytest or "pytest" in mods
            continue
        imports |= mods
        defs += len(_DEF.findall(text))
        async_defs += len(_ASYNC_DEF.findall(text))
        for m in _APP_OBJECT.finditer(text):
            entry_points.append(f"{f.path}:{m.group(1)}")

    deps = _dependencies(repo, rel, pyproject)
    return RepoProfile(
        python_version=_python_version(repo, rel, pyproject),
        dependency_manager=_dependency_manager(repo, rel, pyproject),
        frameworks=[name for name, dists, mods in FRAMEWORKS if deps & set(dists) or imports & set(mods)],
        async_share=round(async_defs / defs, 3) if defs else 0.0,
        test_framework=_test_framework(rel, pyproject, deps, imports | ({"pytest"} if has_pytest else set()),
                                       has_unittest),
        type_checker=_type_checker(repo, rel, pyproject, deps),
        entry_points=sorted(set(entry_points)),
    )


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _python_version(repo: Path, rel: set[str], pyproject: dict[str, Any]) -> str | None:
    for name in (".python-version", "runtime.txt", ".tool-versions"):
        if (repo / name).is_file():
            text = _read(repo / name)
            if name == ".tool-versions":
                text = "\n".join(line for line in text.splitlines() if line.startswith("python"))
            m = _VERSION.search(text)
            if m:
                return m.group(1)
    for df in sorted(p for p in rel if re.search(r"(^|/)(Dockerfile|Containerfile)(\.\w+)?$", p)):
        m = re.search(r"^\s*FROM\s+(?:\S+/)?python:(\d+\.\d+(?:\.\d+)?)", _read(repo / df), re.M | re.I)
        if m:
            return m.group(1)
    project = pyproject.get("project", {})
    requires = project.get("requires-python") or pyproject.get("tool", {}).get("poetry", {}).get(
        "dependencies", {}).get("python")
    if isinstance(requires, str) and requires.strip():
        return requires.strip()
    for name in ("setup.cfg", "setup.py"):
        m = re.search(r"python_requires\s*=\s*['\"]?([^'\"\n,]+)", _read(repo / name)) if name in rel else None
        if m:
            return m.group(1).strip()
    if "Pipfile" in rel:
        m = re.search(r"python_version\s*=\s*['\"]([\d.]+)", _read(repo / "Pipfile"))
        if m:
            return m.group(1)
    classifiers = project.get("classifiers", [])
    versions = [m.group(1) for c in classifiers if (m := re.search(r"Python :: (3\.\d+)$", str(c)))]
    if versions:
        return max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
    return None


def _dependency_manager(repo: Path, rel: set[str], pyproject: dict[str, Any]) -> str | None:
    tool = pyproject.get("tool", {})
    if "uv.lock" in rel or "uv" in tool:
        return "uv"
    if "poetry.lock" in rel or "poetry" in tool:
        return "poetry"
    if "pdm.lock" in rel or "pdm" in tool:
        return "pdm"
    if "Pipfile" in rel or "Pipfile.lock" in rel:
        return "pipenv"
    if any(p.endswith(".in") and "requirements" in p for p in rel):
        return "pip-tools"
    reqs = [p for p in rel if re.search(r"(^|/)requirements[^/]*\.txt$", p)]
    if any("pip-compile" in _read(repo / p)[:2000] for p in reqs):
        return "pip-tools"
    if rel & {"environment.yml", "environment.yaml", "conda-lock.yml"}:
        return "conda"
    if "hatch" in tool and "envs" in tool.get("hatch", {}):
        return "hatch"
    if reqs or "setup.py" in rel or "setup.cfg" in rel or pyproject:
        return "pip"
    return None


def _norm(name: str) -> str:
    return canonicalize_name(name.strip())


def _requirement_name(spec: str) -> str | None:
    """The distribution a PEP 508 line names (``Django>=4.2; python_version>'3.9'`` -> django), else ``None``."""
    spec = spec.split(" #", 1)[0].strip().removesuffix("\\").strip()  # pip's inline comment, line continuation
    try:
        return canonicalize_name(Requirement(spec).name)
    except InvalidRequirement:
        return None


def _names(specs: Iterable[object]) -> set[str]:
    return {name for spec in specs if isinstance(spec, str) and (name := _requirement_name(spec))}


def _conda_names(path: Path) -> set[str]:
    """The packages a conda ``environment.yml`` lists: conda specs (``numpy=1.26``, ``conda-forge::scipy``) and its pip list."""
    try:
        env = yaml.safe_load(_read(path))
    except yaml.YAMLError:
        return set()
    deps = env.get("dependencies") if isinstance(env, dict) else None
    out: set[str] = set()
    for dep in deps if isinstance(deps, list) else []:
        if isinstance(dep, str):
            m = _CONDA_NAME.match(dep.rsplit("::", 1)[-1].strip())
            if m:
                out.add(_norm(m.group(0)))
        elif isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            out |= _names(dep["pip"])
    return out


def _dependencies(repo: Path, rel: set[str], pyproject: dict[str, Any]) -> set[str]:
    deps: set[str] = set()
    project = pyproject.get("project", {})
    deps |= _names(project.get("dependencies", []))
    for group in list(project.get("optional-dependencies", {}).values()) + list(
            pyproject.get("dependency-groups", {}).values()):
        deps |= _names(group)
    poetry = pyproject.get("tool", {}).get("poetry", {})
    deps |= {_norm(k) for k in poetry.get("dependencies", {})}
    deps |= {_norm(k) for k in poetry.get("dev-dependencies", {})}
    for group in poetry.get("group", {}).values():
        deps |= {_norm(k) for k in group.get("dependencies", {})}
    for p in rel:
        if re.search(r"(^|/)requirements[^/]*\.(txt|in)$", p):
            deps |= _names(line for line in _read(repo / p).splitlines() if not line.strip().startswith(("#", "-")))
    if "Pipfile" in rel:
        pip = _toml(repo / "Pipfile")
        deps |= {_norm(k) for k in {**pip.get("packages", {}), **pip.get("dev-packages", {})}}
    if "setup.py" in rel:
        m = re.search(r"install_requires\s*=\s*\[([^\]]*)\]", _read(repo / "setup.py"), re.S)
        if m:
            deps |= _names(re.findall(r"['\"]([^'\"]+)['\"]", m.group(1)))
    if "setup.cfg" in rel:
        m = re.search(r"install_requires\s*=\s*\n((?:[ \t]+.+\n?)+)", _read(repo / "setup.cfg"))
        if m:
            deps |= _names(m.group(1).splitlines())
    for name in ("environment.yml", "environment.yaml"):
        if (repo / name).is_file():
            deps |= _conda_names(repo / name)
    return deps


def _test_framework(rel: set[str], pyproject: dict[str, Any], deps: set[str], imports: set[str],
                    has_unittest: bool) -> str | None:
    tool = pyproject.get("tool", {})
    if ("pytest" in tool or "pytest.ini" in rel or any(p.endswith("conftest.py") for p in rel)
            or "pytest" in deps or "pytest" in imports):
        return "pytest"
    if "nose2" in deps or "nose2" in imports:
        return "nose2"
    if "ward" in deps:
        return "ward"
    if has_unittest or "unittest" in imports:
        return "unittest"
    return None


def _type_checker(repo: Path, rel: set[str], pyproject: dict[str, Any], deps: set[str]) -> str | None:
    tool = pyproject.get("tool", {})
    found = []
    setup_cfg = _read(repo / "setup.cfg") if "setup.cfg" in rel else ""
    if "mypy" in tool or "mypy.ini" in rel or ".mypy.ini" in rel or "[mypy" in setup_cfg or "mypy" in deps:
        found.append("mypy")
    if "basedpyright" in tool or "basedpyright" in deps:
        found.append("basedpyright")
    elif "pyright" in tool or (repo / "pyrightconfig.json").is_file() or "pyright" in deps:
        found.append("pyright")
    if "ty" in tool or "ty" in deps:
        found.append("ty")
    if (repo / ".pyre_configuration").is_file() or "pyre-check" in deps:
        found.append("pyre")
    if "pytype" in tool or "pytype" in deps:
        found.append("pytype")
    return ", ".join(found) if found else None
