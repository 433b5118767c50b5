"""`mentor doctor`: is everything in place? Model, embedder, index, GPU offload."""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from mentor_local.commands.common import add_index_flags, add_json, emit_json, settings_for
from mentor_local.errors import MentorError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check the model, the embedder, the index and GPU support",
                       description="Check that the bundled model, the embedder, the index and the optional GPU "
                                   "offload are ready, and say how to fix what is not.")
    p.add_argument("--repo", default=".", help="the repo whose index to check (default: the current directory)")
    p.add_argument("--model", default=None, metavar="GGUF|small", help="check this GGUF or preset (default, small) instead of the default resolution")
    add_index_flags(p)
    add_json(p)
    p.set_defaults(handler=run)


def _check(name: str, fn: Callable[[], str]) -> dict[str, object]:
    try:
        return {"name": name, "ok": True, "detail": fn()}
    except MentorError as exc:
        return {"name": name, "ok": False, "detail": exc.one_line()}
    except Exception as exc:
        return {"name": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}


def run(args: argparse.Namespace) -> int:
    from mentor_local import offline, wiring

    offline.apply()
    repo = Path(args.repo).expanduser().resolve()
    settings = settings_for(args, repo if repo.is_dir() else None)

    def python() -> str:
        return f"Python {platform.python_version()} at {sys.executable}"

    def model() -> str:
        from mentor_local.models import describe_model, resolve_model

        path = resolve_model(args.model or settings.model)
        probe = wiring.probe_model(path)  # in a child process: a malformed file cannot take doctor down
        template = "chat template: yes" if probe.chat_template else "chat template: NO (the mentor needs an instruct model)"
        if not probe.chat_template:
            raise MentorError(f"{describe_model(path)}; {template}", hint="use --model default or --model small")
        return f"{describe_model(path)}; {template}; trained context {probe.n_ctx_train}"

    def embedder() -> str:
        return wiring.embedder_report(settings)

    def llama_build() -> str:
        from mentor_local.runtime_build import doctor_check

        return doctor_check(settings.model)

    def index() -> str:
        from mentor_local.index import open_index

        if not repo.is_dir():
            raise MentorError(f"{repo} is not a directory")
        with open_index(repo, args.index_dir, settings) as idx:
            st = idx.status()
        return (f"{st['files']} files, {st['chunks']} chunks, {st['knowledge_chunks']} card chunks, "
                f"last indexed {st['last_indexed']}, {st['stale_files']} stale file(s) — {st['index_dir']}")

    def cards() -> str:
        from mentor_local.knowledge import load_cards
        from mentor_local.paths import knowledge_dir

        return f"{len(load_cards())} cards in {knowledge_dir()}"

    checks = [_check("python", python), _check("model", model), _check("embedder", embedder),
              _check("llama-cpp", wiring.llama_report), _check("llama build", llama_build),
              _check("torch", wiring.torch_report), _check("pattern library", cards),
              _check("index", index)]
    if args.json:
        emit_json(checks)
    else:
        for c in checks:
            mark = "ok  " if c["ok"] else "FAIL"
            print(f"[{mark}] {c['name']:<16} {c['detail']}")
    return 0 if all(c["ok"] for c in checks if c["name"] != "index") else 1
