"""`mentor ask QUESTION --repo PATH`: a grounded answer, streamed, or as JSON."""

from __future__ import annotations

import argparse
import sys

from mentor_local.commands.common import add_index_flags, add_json, emit_json, repo_path, settings_for
from mentor_local.domain import Answer
from mentor_local.errors import ConfigError, MentorError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ask", help="ask a question about a repo; the answer is grounded in its code",
        description="Answer QUESTION from the indexed repo's code, its review findings and the pattern library, "
                    "in six sections, with a local model (or an OpenAI-compatible server with --llm-url).",
    )
    p.add_argument("question", metavar="QUESTION", help="what you want to know, in plain words")
    p.add_argument("--repo", default=".", metavar="PATH", help="the indexed repo (default: the current directory)")
    p.add_argument("--model", default=None, metavar="GGUF|small",
                   help="a GGUF model file, or a bundled preset: default (Qwen2.5-Coder-1.5B) or small (0.5B, faster on slow machines) (default: MENTOR_MODEL, else models/*.gguf, else the default preset)")
    p.add_argument("--llm-url", default=None, metavar="URL",
                   help="an OpenAI-compatible server (http://HOST:PORT/v1) instead of the in-process model")
    p.add_argument("--llm-mode", choices=("auto", "completion", "chat"), default="auto",
                   help="with --llm-url: every answer is a chat completion (the server applies its model's template); "
                        "'completion' (base models) is no longer supported and says so")
    p.add_argument("--gpu-layers", default=None, metavar="N|auto",
                   help="layers to offload to the GPU: auto (all, when the build supports it) or a number; 0 = CPU")
    p.add_argument("--n-ctx", type=int, default=None, metavar="N", help="the model's context window (default 4096)")
    add_index_flags(p)
    add_json(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    repo = repo_path(args.repo)
    if args.n_ctx is not None and args.n_ctx < 256:
        raise ConfigError(f"--n-ctx {args.n_ctx} is too small", hint="use 256 or more (default 4096)")
    if not args.question.strip():
        raise ConfigError("the question is empty", hint="ask something, e.g. mentor ask 'where could this lose data?'")
    settings = settings_for(args, repo)
    from mentor_local.answer.mentor import Mentor
    from mentor_local.index import open_index
    from mentor_local.protocols import PrefixPrimer

    # wiring chooses the model: a local one runs in its own process (a native crash there is one line here,
    # exit 1) and starts loading now, while the index opens.
    mentor = Mentor(None, settings=settings, llm_mode=args.llm_mode).load()
    chat_model = mentor.backend
    try:
        try:
            index = open_index(repo, index_dir=settings.index_dir, settings=settings)
        except MentorError:
            chat_model.wait_ready()  # a bad --model is the first thing to fix: its error wins
            raise
        mentor.index = index
        if isinstance(chat_model, PrefixPrimer):  # a local model: the persona's state from the last run, if any
            mentor.warm()
        answer: Answer | None = None
        wrote = False
        try:
            for item in mentor.stream(args.question):
                if isinstance(item, Answer):
                    answer = item
                elif not args.json:
                    sys.stdout.write(item)
                    sys.stdout.flush()
                    wrote = True
        except MentorError:
            if wrote:  # end the half-written answer, so the error is a line of its own
                sys.stdout.write("\n")
                sys.stdout.flush()
            raise
        finally:
            index.close()
    finally:
        chat_model.close()
    assert answer is not None
    if args.json:
        emit_json(answer.to_json())
    else:
        sys.stdout.write("\n")
    return 0
