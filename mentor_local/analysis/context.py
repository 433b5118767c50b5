"""One parsed file as the rules see it, and the raw finding a rule yields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

_TEST_FILE = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$")
_SCRIPT_FILE = re.compile(r"(^|/)(scripts?|bin|tools|examples?|docs?|notebooks?)/|(^|/)(manage|setup|noxfile|fabfile)\.py$|(^|/)__main__\.py$")


_MIGRATION_FILE = re.compile(r"(^|/)(migrations|alembic)/")
# One-off schema migrations run once, offline: performance and logging advice does not apply there, and the
# f-strings they build carry table names, not user input.
NOT_IN_MIGRATIONS = frozenset({"n-plus-one-query", "row-wise-pandas", "sequential-awaits", "print-instead-of-logging",
                               "sql-injection", "blocking-call-in-async", "unbounded-memory"})


@dataclass(frozen=True)
class RawFinding:
    """What a rule reports before noqa, config, severity defaults and cards are applied."""

    line: int
    end_line: int
    topic: str
    rule: str
    message: str
    severity: str | None = None
    hints: tuple[str, ...] = ()
    """Words that help pick the best card (e.g. ``subprocess``, ``flask``)."""
    confidence: str | None = None
    """high | medium | low; None takes the rule's default (``review.RULE_CONFIDENCE``)."""
    why: str = ""
    """What made the rule fire (shown with the finding); empty takes the rule's default."""


@dataclass
class FileContext:
    path: str  # POSIX, relative to the repo root
    text: str
    src: bytes
    tree: Tree
    lines: list[str] = field(default_factory=list)
    _calls: list[tuple[Node, str]] | None = None
    _imports: str | None = None
    _matches: dict[str, list[dict[str, list[Node]]]] | None = None
    _hints: tuple[str, ...] | None = None
    relationships: frozenset[str] = frozenset()
    schemas: frozenset[str] = frozenset()
    """Validation classes (pydantic/marshmallow/DRF/msgspec/wtforms and their subclasses) defined in the repo."""
    """Lazy-loading ORM relationship attribute names defined anywhere in the repo (see ``repo_facts``)."""

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @property
    def is_test(self) -> bool:
        return bool(_TEST_FILE.search(self.path))

    @property
    def is_migration(self) -> bool:
        return bool(_MIGRATION_FILE.search(self.path))

    @property
    def is_script(self) -> bool:
        return bool(_SCRIPT_FILE.search(self.path))

    def matches(self, query: str) -> list[dict[str, list[Node]]]:
        """The matches of ``rules/<query>.scm`` in this file (all queries run in one pass, once)."""
        if self._matches is None:
            self._matches = S.run_queries(self.root)
        return self._matches[query]

    def nodes(self, query: str, capture: str) -> list[Node]:
        return [n for m in self.matches(query) for n in m.get(capture, [])]

    def calls(self) -> list[tuple[Node, str]]:
        """Every call in the file with its dotted callee text."""
        if self._calls is None:
            found = self.nodes("calls", "call")
            self._calls = [(c, S.call_name(c)) for c in found]
        return self._calls

    def imports(self) -> str:
        """The text of every import statement, for cheap "does this file use X" checks."""
        if self._imports is None:
            nodes = self.nodes("imports", "import")
            self._imports = "\n".join(S.text(n) for n in nodes)
        return self._imports

    def imports_module(self, *names: str) -> bool:
        imp = self.imports()
        return any(re.search(rf"\b(import|from)\s+{re.escape(n)}\b", imp) for n in names)

    def framework_hints(self) -> tuple[str, ...]:
        if self._hints is None:
            names = ("fastapi", "flask", "django", "starlette", "celery", "pandas", "sqlalchemy", "httpx", "requests")
            self._hints = tuple(n for n in names if self.imports_module(n))
        return self._hints

    def byte_col(self, row: int, char_col: int) -> int:
        """Convert a 1-based character column (ruff) on 1-based ``row`` to a 0-based byte column."""
        if 0 < row <= len(self.lines):
            return len(self.lines[row - 1][: max(char_col - 1, 0)].encode("utf-8"))
        return max(char_col - 1, 0)

    def node_at(self, row: int, char_col: int) -> Node | None:
        point = (row - 1, self.byte_col(row, char_col))
        return self.root.named_descendant_for_point_range(point, point)


_RELATIONSHIP = re.compile(
    r"^[ \t]*(\w+)[ \t]*(?::[^=\n]*)?=[ \t]*(?:\w+\.)*(relationship|relation|ForeignKey|OneToOneField|"
    r"ManyToManyField|ForeignKeyField|ManyToManyField|ReferenceField)\((?P<args>[^\n]*)",
    re.M,
)
_EAGER_DEFAULT = re.compile(r"lazy\s*=\s*['\"](joined|selectin|subquery|immediate|raise|noload|dynamic|write_only)")


def relationship_names(texts: list[str]) -> frozenset[str]:
    """Names of ORM relationships that load lazily (SQLAlchemy ``relationship()``, Django/Peewee foreign keys)."""
    names: set[str] = set()
    for text in texts:
        if "relationship" not in text and "ForeignKey" not in text and "ManyToMany" not in text and "relation(" not in text:
            continue
        for m in _RELATIONSHIP.finditer(text):
            if not _EAGER_DEFAULT.search(m.group("args")):
                names.add(m.group(1))
    return frozenset(names)


_CLASS = re.compile(r"^[ \t]*class[ \t]+(\w+)[ \t]*\(([^)]*)\)", re.M)
_SCHEMA_BASE = re.compile(r"\b(BaseModel|BaseSettings|RootModel|Schema|Serializer|ModelSerializer|Struct|FlaskForm|Form|"
                          r"TypedDict|SQLModel)\b")


def schema_names(texts: list[str]) -> frozenset[str]:
    """Classes that validate input: direct subclasses of a known schema base, and their subclasses."""
    bases: dict[str, str] = {}
    for text in texts:
        if "class" in text:
            for m in _CLASS.finditer(text):
                bases[m.group(1)] = m.group(2)
    schemas = {name for name, b in bases.items() if _SCHEMA_BASE.search(b)}
    changed = True
    while changed:
        changed = False
        for name, b in bases.items():
            if name not in schemas and any(part.strip().rsplit(".", 1)[-1] in schemas for part in b.split(",")):
                schemas.add(name)
                changed = True
    return frozenset(schemas)
