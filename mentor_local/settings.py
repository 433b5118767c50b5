"""Frozen settings, resolved once: defaults < mentor.toml < MENTOR_* env < CLI flags.

``mentor.toml`` is read from the app home (``$MENTOR_HOME/mentor.toml``) and
then from the repo being mentored (``<repo>/mentor.toml``); later wins.
Nothing here reads the environment at import time.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypedDict, Unpack

from mentor_local.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    home: Path | None = None
    """App data directory; ``None`` means ``$MENTOR_HOME`` or the platform's data dir."""
    index_dir: Path | None = None
    """Where this repo's index lives; ``None`` means a folder per repo under ``home``."""
    chroma_url: str | None = None
    """``http://HOST:PORT`` of a Chroma server to use instead of the embedded store."""
    llm_url: str | None = None
    """``http://HOST:PORT/v1`` of an OpenAI-compatible server instead of the in-process model."""
    model: str | None = None
    """Path of a GGUF file, or a bundled preset (``default``: Qwen2.5-Coder-1.5B-Instruct, ``small``: 0.5B);
    ``None`` means a GGUF dropped into ``models/``, else the default preset."""
    device: str = "auto"
    """Embedding device: ``auto``, ``cpu`` or ``cuda``."""
    embedder: str = "auto"
    """``auto`` (int8 ONNX on a CPU, fp32 torch on a GPU; an existing index keeps the one that built it),
    ``int8`` or ``fp32``."""
    max_file_bytes: int = 1_000_000
    """Files larger than this are skipped when indexing."""
    per_file_cap: int = 3
    """At most this many hits from one file in a search result."""
    n_ctx: int = 4096
    """Context window given to the local model."""
    gpu_layers: str = "auto"
    """``auto`` offloads every layer when the build supports it; ``0`` keeps the model on the CPU."""
    threads: int | None = None
    """Threads for the local model; ``None`` means the number of physical cores."""
    max_tokens: int = 512
    """Upper bound of tokens the model writes for one answer."""

    def replace(self, **changes: Unpack[SettingsChanges]) -> Settings:
        """A copy with ``changes`` applied; a change to ``None`` means "not given" and keeps the value."""
        given: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}  # each typed by SettingsChanges
        return dataclasses.replace(self, **given)


class SettingsChanges(TypedDict, total=False):
    """``Settings`` fields as keyword arguments (``Settings.replace``, ``Mentor(index, n_ctx=2048)``)."""

    home: Path | None
    index_dir: Path | None
    chroma_url: str | None
    llm_url: str | None
    model: str | None
    device: str
    embedder: str
    max_file_bytes: int
    per_file_cap: int
    n_ctx: int
    gpu_layers: str
    threads: int | None
    max_tokens: int


_PATHS = {"home", "index_dir"}
_CHOICES = {"device": ("auto", "cpu", "cuda"), "embedder": ("auto", "int8", "fp32")}
_INTS = {"max_file_bytes", "per_file_cap", "n_ctx", "threads", "max_tokens"}


def _coerce(name: str, value: object, origin: str) -> object:
    try:
        if name in _PATHS:
            return Path(str(value)).expanduser()
        if name in _INTS:
            if not isinstance(value, str | int | float):
                raise TypeError(f"not a number: {value!r}")
            return int(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: setting {name!r} has a bad value {value!r}", hint="fix or remove it") from exc


def _from_toml(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="fix the file or remove it") from exc
    section = data.get("mentor", data)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}", hint=f"known: {', '.join(sorted(known))}")
    return {k: _coerce(k, v, str(path)) for k, v in section.items()}


def _from_env(environ: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in fields(Settings):
        key = "MENTOR_" + f.name.upper()
        if environ.get(key):
            out[f.name] = _coerce(f.name, environ[key], f"${key}")
    return out


def load_settings(repo: Path | None = None, environ: dict[str, str] | None = None, **flags: object) -> Settings:
    """Resolve settings for one run; ``flags`` are CLI values (``None`` = not given)."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    home = Path(env["MENTOR_HOME"]).expanduser() if env.get("MENTOR_HOME") else None
    from mentor_local.paths import app_home

    values.update(_from_toml(app_home(home) / "mentor.toml"))
    if repo is not None:
        values.update(_from_toml(repo / "mentor.toml"))
    values.update(_from_env(env))
    values.update({k: v for k, v in flags.items() if v is not None})
    for name, allowed in _CHOICES.items():
        if name in values and values[name] not in allowed:
            raise ConfigError(f"setting {name!r} has a bad value {values[name]!r}", hint=f"use one of: {', '.join(allowed)}")
    return Settings(**values)
