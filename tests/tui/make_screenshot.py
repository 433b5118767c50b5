"""Make ``docs/tui.png``: a Pilot run of the app saves an SVG (``App.save_screenshot``), then cairosvg or
rsvg-convert turns it into a PNG.

    python tests/tui/make_screenshot.py                      # the app over the scripted fakes
    python tests/tui/make_screenshot.py --repo R --index-dir D   # the real index and bundled model

The SVG asks for the Fira Code web font; the local monospace font (DejaVu Sans Mono) is used instead.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def to_png(svg_path: Path, png_path: Path, width: int) -> None:
    svg = svg_path.read_text(encoding="utf-8")
    svg = re.sub(r'font-family:\s*"?Fira Code"?[^;"]*', 'font-family: "DejaVu Sans Mono", monospace', svg)
    svg = re.sub(r"@font-face\s*{[^}]*}", "", svg)
    try:
        import cairosvg

        cairosvg.svg2png(bytestring=svg.encode(), write_to=str(png_path), output_width=width)
        return
    except ImportError:
        pass
    if shutil.which("rsvg-convert") is None:
        raise SystemExit("need cairosvg (pip install cairosvg) or rsvg-convert (apt-get install librsvg2-bin)")
    fixed = svg_path.with_suffix(".local.svg")
    fixed.write_text(svg, encoding="utf-8")
    subprocess.run(["rsvg-convert", "-w", str(width), "-o", str(png_path), str(fixed)], check=True)


async def shoot(args: argparse.Namespace, svg: Path) -> None:
    from mentor_local.settings import Settings, load_settings
    from mentor_local.tui.app import MentorApp
    from mentor_local.tui.widgets.prompt import PromptInput
    from tests.tui.fakes import FakeBackend, make_repo

    tmp = Path(tempfile.mkdtemp())
    if args.repo:
        app = MentorApp(args.repo, settings=load_settings(args.repo, index_dir=args.index_dir), home=tmp / "home")
    else:
        repo = make_repo(tmp / "repo")
        app = MentorApp(repo, settings=Settings(home=tmp / "home"), home=tmp / "home",
                        **FakeBackend(repo).app_kwargs())
    async with app.run_test(size=(args.width, args.height)) as pilot:
        app.query_one("#prompt", PromptInput).cursor_blink = False
        while app.mentor is None and app.blocker is None:
            await pilot.pause(0.1)
        if app.blocker:
            raise SystemExit(app.blocker)
        app.query_one("#prompt", PromptInput).load_text(args.question)
        await pilot.press("enter")
        while app.conversation.last_answer is None:
            if app.conversation.answering is None and app.conversation.pending is None:
                raise SystemExit("the answer failed")
            await pilot.pause(0.2)
        await pilot.pause(0.5)
        app.query_one("#chat").scroll_home(animate=False)
        app.query_one("#prompt", PromptInput).load_text("And how do I test that the fix holds?")
        await pilot.pause(0.5)
        app.save_screenshot(svg.name, str(svg.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--question", default="Why is the invoices page slow and how do I fix it?")
    parser.add_argument("--width", type=int, default=140)
    parser.add_argument("--height", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "tui.png")
    args = parser.parse_args()
    svg = Path(tempfile.mkdtemp()) / "tui.svg"
    asyncio.run(shoot(args, svg))
    to_png(svg, args.out, width=args.width * 12)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
