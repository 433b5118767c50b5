from __future__ import annotations

import ast
import textwrap

from mentor_local.domain import Chunk
from mentor_local.indexing.chunk_python import MAX_CHARS, chunk_python, module_name

SRC = textwrap.dedent('''
    """Module doc."""
    import os

    LIMIT = 10


    @app.get("/users/{user_id}")
    async def read_user(user_id: int):
        """Return one user."""
        return await db.get(user_id)


    class UserService(BaseService):
        """Business rules for users."""

        table = "users"

        def __init__(self, db):
            self.db = db

        @staticmethod
        def normalise(email: str) -> str:
            return email.strip().lower()


    def router_factory():
        def login(form):
            return form

        return login


    if __name__ == "__main__":
        print(read_user(1))
''').lstrip()


def _by_symbol(chunks: list[Chunk]) -> dict[tuple[str, int], Chunk]:
    return {(c.symbol, c.part): c for c in chunks}


def test_qualified_names_kinds_and_exact_ranges() -> None:
    chunks = chunk_python("src/myapp/users.py", SRC)
    by = _by_symbol(chunks)
    tree = ast.parse(SRC)
    expected = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            expected[node.name] = (start, node.end_lineno)
    assert by[("read_user", 0)].kind == "function"
    assert (by[("read_user", 0)].start_line, by[("read_user", 0)].end_line) == expected["read_user"]
    assert by[("read_user", 0)].text.startswith('@app.get("/users/{user_id}")')  # decorator belongs to it
    assert by[("UserService.normalise", 0)].kind == "method"
    assert by[("UserService.normalise", 0)].qualname == "myapp.users.UserService.normalise"
    assert (by[("UserService.normalise", 0)].start_line, by[("UserService.normalise", 0)].end_line) == expected["normalise"]
    assert by[("router_factory.login", 0)].kind == "function"
    assert (by[("UserService", 0)].start_line, by[("UserService", 0)].end_line) == expected["UserService"]
    # the class chunk shows its methods as signatures only
    cls = by[("UserService", 0)].text
    assert "def normalise(email: str) -> str:" in cls and "strip().lower()" not in cls
    # a method's embedded text carries its class header
    assert "class UserService(BaseService):" in by[("UserService.__init__", 0)].embed_text
    # module-level code is grouped, and every chunk's text is the exact lines of its range (minus nested bodies)
    modules = [c for c in chunks if c.kind == "module"]
    assert modules and modules[0].start_line == 1
    lines = SRC.split("\n")
    for c in chunks:
        if c.kind in ("function", "method") and c.symbol != "router_factory":
            assert c.text == "\n".join(lines[c.start_line - 1:c.end_line])


def test_large_function_is_split_at_statements_with_signature_repeated() -> None:
    body = "\n".join(f"    value_{i} = compute_something_long(argument_{i}, other_argument_{i})" for i in range(80))
    src = f"def big(a, b):\n    \"\"\"Doc.\"\"\"\n{body}\n    return a\n"
    chunks = [c for c in chunk_python("m.py", src) if c.symbol == "big"]
    assert len(chunks) > 2
    assert chunks[0].start_line == 1 and chunks[-1].end_line == src.count("\n")
    for a, b in zip(chunks, chunks[1:]):
        assert a.end_line + 1 == b.start_line  # contiguous, no gaps, no overlaps
    for c in chunks[1:]:
        assert c.embed_text.splitlines()[2] == "def big(a, b):"
        assert len(c.text) <= MAX_CHARS * 1.3


def test_syntax_errors_still_yield_chunks() -> None:
    src = "def good():\n    return 1\n\ndef bad(:\n    pass\n\nclass Also:\n    x = (\n"
    chunks = chunk_python("broken.py", src)
    assert "good" in {c.symbol for c in chunks}
    for c in chunks:
        assert 1 <= c.start_line <= c.end_line <= src.count("\n") + 1


def test_module_name() -> None:
    assert module_name("src/pkg/mod.py") == "pkg.mod"
    assert module_name("pkg/__init__.py") == "pkg"
    assert module_name("app.py") == "app"
