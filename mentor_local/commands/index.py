"""`mentor index PATH`: build or update the index of a repo and the pattern library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mentor_local.commands.common import add_index_flags, add_json, emit_json, repo_path, settings_for


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "index",
        help="index a repo (incremental: only what changed is re-embedded)",
        description=(
            "Chunk the repo's Python by function, method and class (tree-sitter), chunk its other text files by "
            "headings and blocks, embed the chunks with the bundled MiniLM and store them in Chroma with a keyword "
            "index beside it. The pattern library (knowledge/) is indexed too. Re-running only re-embeds changed "
            "files; a killed run resumes where it stopped."
        ),
        epilog="Examples:\n  mentor index .\n  mentor index ~/code/app --json\n  mentor index . --rebuild",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", nargs="?", default=".", help="the repo to index (default: the current directory)")
    add_index_flags(p)
    add_json(p)
    p.add_argument("--rebuild", action="store_true",
                   help="build a fresh index beside the old one and swap it in when complete")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="where to run the embedder (default auto: the GPU when torch sees one)")
    p.add_argument("--embedder", choices=("auto", "int8", "fp32"), default=None,
                   help="auto (default): int8 ONNX on a CPU, fp32 torch on a GPU; an existing index keeps "
                        "the embedder it was built with (switch with --rebuild)")
    p.add_argument("--max-file-bytes", type=int, default=None, metavar="N",
                   help="skip files larger than N bytes (default 1000000)")
    p.add_argument("--show-skipped", action="store_true", help="list every skipped file with its reason")
    p.set_defaults(handler=run)


class _Bar:
    """A rich progress bar on a terminal; nothing otherwise."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), transient=True, console=_console())
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "done":
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1), rate="")
        task = self.tasks[stage]
        elapsed = self.progress.tasks[task].elapsed or 0.0
        rate = f"{done / elapsed:.0f} files/s" if elapsed > 0.5 else ""
        self.progress.update(task, completed=done, total=max(total, 1), rate=rate)


def _console() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from mentor_local.index import build_index

    repo = repo_path(args.path)
    settings = settings_for(args, repo)
    show_bar = not args.json and sys.stderr.isatty()
    bar = _Bar() if show_bar else None
    if bar:
        with bar.progress:
            report = build_index(repo, args.index_dir, bar, settings=settings, rebuild=args.rebuild)
    else:
        report = build_index(repo, args.index_dir, None, settings=settings, rebuild=args.rebuild)
    if args.json:
        emit_json(report.to_json())
        return 0
    out = sys.stdout
    out.write(
        f"Indexed {report.repo} in {report.seconds:.1f}s: {report.files_indexed} file(s) (re)indexed, "
        f"{report.chunks_embedded} chunk(s) embedded, {report.chunks_deleted} removed; "
        f"{report.chunks_total} code chunks and {report.knowledge_chunks} pattern-card chunks in the index.\n"
    )
    files_skipped = [s for s in report.skipped if not s.path.endswith("/")]
    if report.skipped:
        out.write(f"Skipped {len(files_skipped)} file(s) and {len(report.skipped) - len(files_skipped)} folder(s)")
        if args.show_skipped:
            out.write(":\n")
            for s in report.skipped:
                out.write(f"  {s.path}: {s.reason}\n")
        else:
            reasons: dict[str, int] = {}
            for s in report.skipped:
                reasons[s.reason] = reasons.get(s.reason, 0) + 1
            out.write(" (" + "; ".join(f"{n}× {r}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])) + ")")
            out.write(" — --show-skipped lists them.\n")
    out.write(f"Index: {Path(report.index_dir)}\n")
    return 0
