"""Importing the app and painting its first frame loads no heavy library (checked in a fresh process)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("chromadb", "torch", "llama_cpp", "sentence_transformers")
ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    HEAVY = %r
    t0 = time.perf_counter()
    from mentor_local.tui.app import MentorApp
    after_import = [m for m in HEAVY if m in sys.modules]

    class Probe(MentorApp):
        def _after_first_paint(self):
            self.seen = [m for m in HEAVY if m in sys.modules]
            self.painted = time.perf_counter() - t0
            self.exit()

    async def main():
        app = Probe(Path(sys.argv[1]))  # the real default wiring, not fakes
        async with app.run_test(size=(80, 24)) as pilot:
            while not hasattr(app, "seen"):
                await pilot.pause(0.01)
        print(json.dumps({"after_import": after_import, "after_paint": app.seen, "paint_s": app.painted}))

    asyncio.run(main())
    """
) % (HEAVY,)


def test_no_heavy_import_before_first_paint(tmp_path: Path) -> None:
    missing = [m for m in HEAVY if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed here, so the check could not fail")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "MENTOR_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE, str(repo)], capture_output=True, text=True, env=env,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["after_import"] == [] and result["after_paint"] == [], result
