"""Snapshots of the main screens at 80x24 and 160x48 (pytest-textual-snapshot; fakes, fixed data).

Update after a deliberate change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from mentor_local.tui.screens.code_view import CodeViewer
from mentor_local.tui.screens.help import HelpScreen
from mentor_local.tui.widgets.findings import FindingsPane
from mentor_local.tui.widgets.prompt import PromptInput

from .conftest import MakeApp, ask, ready, wait_for, wait_for_screen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


async def _settle(pilot: Pilot[None]) -> None:
    pilot.app.query_one(PromptInput).cursor_blink = False
    await ready(pilot)


async def answered(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    await ask(pilot, "Why is the invoices page slow?")
    pilot.app.query_one("#chat").scroll_home(animate=False)
    await pilot.pause()


async def findings(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    await pilot.press("f3")
    await pilot.pause()


async def viewer(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    pane = pilot.app.query_one(FindingsPane)
    pane.post_message(FindingsPane.OpenFinding(pane.findings[0]))
    await wait_for_screen(pilot, CodeViewer)


async def help_screen(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    await pilot.press("f1")
    await wait_for_screen(pilot, HelpScreen)


async def light(pilot: Pilot[None]) -> None:
    await answered(pilot)
    await pilot.press("ctrl+t")
    await wait_for(pilot, lambda: not pilot.app.current_theme.dark)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", [answered, findings, viewer, help_screen, light], ids=lambda f: f.__name__)
def test_screen(snap_compare: Callable[..., bool], make_app: MakeApp, size: tuple[int, int],
                scene: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=scene)
