"""Citation and identifier checks (pure)."""

from __future__ import annotations

from mentor_local.answer.citations import SourceRange, Vocabulary, check_citations, filter_generated, find_citations

SOURCES = [SourceRange("app/orders.py", 1, 20), SourceRange("app/client.py", 5, 5)]


def test_find_citations_single_lines_and_ranges() -> None:
    text = "See `app/orders.py:3-7` and app/client.py:5, not version 3.11 or 12:30."
    assert find_citations(text) == [("app/orders.py", 3, 7), ("app/client.py", 5, 5)]


def test_backed_citations_are_valid_and_kept() -> None:
    text, cites = check_citations("Look at `app/orders.py:2-9`.", SOURCES)
    assert text == "Look at `app/orders.py:2-9`."
    assert [c.valid for c in cites] == [True]


def test_out_of_range_and_unknown_paths_are_removed_and_marked_invalid() -> None:
    text, cites = check_citations("Fix (`app/orders.py:15-40`) and `app/ghost.py:3` now. Keep app/client.py:5.", SOURCES)
    assert "app/orders.py:15" not in text and "ghost" not in text
    assert "app/client.py:5" in text
    assert {(c.path, c.valid) for c in cites} == {("app/orders.py", False), ("app/ghost.py", False),
                                                 ("app/client.py", True)}
    assert "()" not in text and "``" not in text


def vocab() -> Vocabulary:
    return Vocabulary.build(
        ["def load_orders(session, user_ids):\n    return session.query(Order).all()"],
        ["app/orders.py"], SOURCES, ["app.orders.load_orders"])


def test_sentences_naming_only_sources_pass() -> None:
    v = vocab()
    assert v.sentence_ok("Batch the query in load_orders so it runs once.")
    assert v.sentence_ok("The function `app.orders.load_orders` loops over user_ids.")
    assert v.sentence_ok("Read app/orders.py:3 first, e.g. the loop.")
    assert v.mentions_source("Batch the query in load_orders.")
    assert not v.mentions_source("The backend is slow.")


def test_invented_names_fail() -> None:
    v = vocab()
    for bad in ("Call session.fetch_all() instead.", "Use the `OrderRepository` class.", "Move it to app/cache.py.",
                "See app/orders.py:99 for details.", "Use prefetch_related here.", "Try bulk_load() on it."):
        assert not v.sentence_ok(bad), bad


def test_filter_generated_drops_repeats_and_inventions() -> None:
    v = vocab()
    kept, dropped = filter_generated("Batch load_orders. Batch load_orders. Use magic_cache() now.", v)
    assert kept == "Batch load_orders."
    assert len(dropped) == 2
