"""Citation and identifier checks (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mentor_local.answer.citations import SourceRange, Vocabulary, check_citations, find_citations

if TYPE_CHECKING:
    from mentor_local.answer.checks import Grounds

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




# -- the sentence check on crafted model output ------------------------------------------------

def grounds(partial: bool = False) -> Grounds:
    from mentor_local.answer.checks import Grounds

    code = "def hash_password(self, password):\n    return self.password_hash.hash(password)\n"
    return Grounds.build(
        code_texts=[code], other_texts=["How are passwords hashed?"],
        card_texts=["- Migrate legacy hashes (card weak-password-hash): Consider re-hashing `md5` digests with "
                    "`argon2` on the next login via `hashlib`."],
        paths=["app/password.py"], ranges=[SourceRange("app/password.py", 10, 11)],
        names=["PasswordHelper.hash_password", "app.password.PasswordHelper.hash_password"],
        partial={"hash_password": partial, "app/password.py": partial})


def check(sentence: str, partial: bool = False) -> str | None:
    from mentor_local.answer.checks import SentenceCheck

    return SentenceCheck(grounds(partial)).reason(sentence)


def test_a_card_claim_attributed_to_the_repo_is_dropped() -> None:
    assert check("The code migrates legacy md5 hashes with hashlib.") == "card-claim"
    assert check("`hash_password` already re-hashes md5 digests on login.") == "card-claim"
    # the same card knowledge framed as advice is fine
    assert check("Consider re-hashing md5 digests on the next login.") is None


def test_an_invented_identifier_is_dropped() -> None:
    assert check("It calls `self.verify_and_rehash()` after login.") == "identifier"
    assert check("`hash_password` returns `self.password_hash.hash(password)`.") is None


def test_a_citation_outside_the_sources_is_dropped() -> None:
    assert check("See `app/password.py:40` for the details.") == "citation"
    assert check("See `app/password.py:10-11` for the hashing.") is None


def test_absence_claims_about_partly_seen_code_are_dropped() -> None:
    assert check("The `hash_password` method does not check the password length.", partial=True) == "absence"
    assert check("The `hash_password` method does not check the password length.", partial=False) is None


def test_repeats_are_dropped_and_code_blocks_must_parse() -> None:
    from mentor_local.answer.checks import SentenceCheck

    c = SentenceCheck(grounds())
    s = "The method hands the password to the hasher and returns its result."
    assert c.keep(s) and not c.keep(s)
    assert c.stats.dropped["repeat"] == 1
    assert c.keep_code("x = hash_password(pw)\n", "python")
    assert not c.keep_code("def broken(:\n", "python")
    assert not c.keep_code("SELECT 1;", "sql")


def test_a_card_claim_in_the_cards_own_words_is_dropped() -> None:
    from mentor_local.answer.checks import Grounds, SentenceCheck

    card = ("- Validate at every boundary (card input-validation-boundaries): Consider validating request bodies and "
            "other input once at every trust boundary, then work with typed values.")
    code = "def preprocess_request(self):\n    for func in self.before_request_funcs[None]:\n        rv = func()\n"
    g = Grounds.build(code_texts=[code], other_texts=["Where does an API key check hook in?"], card_texts=[card],
                      paths=["flask/app.py"], ranges=[SourceRange("flask/app.py", 1271, 1296)],
                      names=["Flask.preprocess_request"], partial={})
    # the 1.5B model's own sentence on flask: the card's words, said of the code (no identifier to catch)
    said = "The code already validates request bodies and other input using typed objects with explicit constraints."
    assert SentenceCheck(g).reason(said) == "card-claim"
    # the same words as advice, and a sentence about the code in its own words, stay
    assert SentenceCheck(g).reason("Consider validating request bodies and other input at this boundary.") is None
    assert SentenceCheck(g).reason("The code runs each before-request function and stops at the first "
                                   "that returns a value.") is None
    # words the card shares with the code are the code's, not the card's
    g2 = Grounds.build(code_texts=[code + "# validate request bodies and other input here\n"], other_texts=[],
                       card_texts=[card], paths=["flask/app.py"], ranges=[SourceRange("flask/app.py", 1271, 1296)],
                       names=["Flask.preprocess_request"], partial={})
    assert SentenceCheck(g2).reason("The code validates request bodies and other input.") is None


def test_a_card_term_the_code_also_uses_is_not_a_card_claim() -> None:
    from mentor_local.answer.checks import Grounds, SentenceCheck

    card = ("- Serialize explicitly (card json-types): Consider converting `decimal.Decimal` and `datetime.datetime` "
            "yourself, and read `current_user` once per request.")
    code = "import decimal\n\ndef default(o):\n    if isinstance(o, decimal.Decimal):\n        return str(o)\n"
    g = Grounds.build(code_texts=[code], other_texts=["How are decimals serialized?"], card_texts=[card],
                      paths=["flask/json/provider.py"], ranges=[SourceRange("flask/json/provider.py", 1, 5)],
                      names=["default"], partial={})
    check = SentenceCheck(g)
    # flask-12 and allauth-07 sentences the 1.5B model wrote, true of the code, once dropped
    assert check.reason("The code turns `decimal.Decimal` values into strings.") is None
    assert check.reason("The code sets the expiry a few seconds after the current time.") is None
    # a term only the card has is still a card claim
    assert check.reason("The code already converts `datetime.datetime` values itself.") == "card-claim"
