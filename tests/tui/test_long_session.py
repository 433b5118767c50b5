"""A session of 50 questions stays responsive: keys, answers and memory do not degrade as the chat grows.

Fakes for the model (its speed is not what is measured here); the real app, widgets and Textual.
MENTOR_TUI_SESSION_QUESTIONS (default 50) sets the length; the figures are printed (pytest -s).
"""

from __future__ import annotations

import json
import os
import statistics
import time

import pytest
from textual.pilot import Pilot

from mentor_local.tui.widgets.chat import MAX_TURNS, ChatTurn
from mentor_local.tui.widgets.prompt import PromptInput

from .conftest import MakeApp, ask, ready, wait_for

QUESTIONS = int(os.environ.get("MENTOR_TUI_SESSION_QUESTIONS", "50"))


async def _key_echo_ms(pilot: Pilot[None], prompt: PromptInput, text: str) -> float:
    """Type ``text`` one key at a time; the median time for a key to reach the question box."""
    times = []
    for ch in text:
        before = prompt.text
        t = time.perf_counter()
        await pilot.press(ch)
        await wait_for(pilot, lambda: prompt.text != before, what="the key")
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


@pytest.mark.asyncio
async def test_fifty_questions_keep_the_app_responsive(make_app: MakeApp) -> None:
    figures: dict[str, float] = {}

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        prompt = app.query_one(PromptInput)
        keys: list[float] = []
        answers: list[float] = []
        for i in range(QUESTIONS):
            keys.append(await _key_echo_ms(pilot, prompt, "why"))
            prompt.load_text("")
            t = time.perf_counter()
            await ask(pilot, f"Question {i}: why is the invoices page slow?")
            answers.append((time.perf_counter() - t) * 1000)
            if i == 4:
                early_widgets = len(app.query("*"))
        assert len(app.conversation.history) == QUESTIONS
        assert 1 <= len(app.query(ChatTurn)) <= MAX_TURNS
        first, last = keys[:5], keys[-5:]
        figures.update(
            questions=QUESTIONS, turns_on_screen=len(app.query(ChatTurn)),
            key_echo_ms_first5=round(statistics.median(first), 1), key_echo_ms_last5=round(statistics.median(last), 1),
            answer_ms_first5=round(statistics.median(answers[:5]), 1),
            answer_ms_last5=round(statistics.median(answers[-5:]), 1),
            widgets_after_q5=early_widgets, widgets_at_end=len(app.query("*")),
        )
        # Responsive: a key still shows within 100 ms (median) at the end, and no slower than 3x the start;
        # an answer's handling no slower than 3x the start.
        assert figures["key_echo_ms_last5"] <= max(100.0, 3 * figures["key_echo_ms_first5"]), figures
        assert figures["answer_ms_last5"] <= 3 * figures["answer_ms_first5"] + 200, figures
        # what keeps it so: the screen holds a bounded number of widgets however long the session
        assert figures["widgets_at_end"] <= 2 * figures["widgets_after_q5"], figures
        assert f"{QUESTIONS - MAX_TURNS} earlier turn(s)" in str(app.query_one("#earlier").render()), figures

    print("TUI SESSION " + json.dumps(figures))
