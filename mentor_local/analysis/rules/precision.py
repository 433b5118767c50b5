"""What a ruff diagnostic means in context: drop it, or say how severe, how sure and why.

Ruff's security and async rules match a shape (a formatted SQL string, ``pickle.loads``, ``open()`` in
``async def``). Whether that shape is a defect depends on where the value comes from and where the code
runs; these judgements follow the value and the scope, the way a reviewer reading the line would.
They were tuned on the dev corpora of ``scripts/bench/review_real`` (see ``docs/review.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.rules.common import is_db_query_call, is_route_handler

if TYPE_CHECKING:
    from tree_sitter import Node

    from mentor_local.analysis.context import FileContext


@dataclass(frozen=True)
class Judgement:
    severity: str | None = None
    confidence: str | None = None
    why: str = ""
    problem: str | None = None


DROP = None


def _ancestor(node: Node, types: tuple[str, ...]) -> Node | None:
    return next((a for a in [node, *S.ancestors(node)] if a.type in types), None)


# --- sql-injection: follow the interpolated values ----------------------------------------------

_VALUE_BEFORE = re.compile(r"((=|<>|!=|<|>|\blike|\bin\s*\(|\bvalues\s*\(|\blimit|\boffset|\bthen)\s*['\"]?|,\s*['\"])$", re.I)
_CONSTANT = re.compile(r"^([A-Z][A-Z0-9_]*|(\w+\.)+[A-Z][A-Z0-9_]*|\d+|None|True|False)$")


def _trusted_value(expr: Node, fn: Node | None) -> bool:
    """A literal, a module constant, a count, or a name this function binds only to such things."""
    t = S.text(expr).strip()
    if S.is_string_literal(expr) or expr.type in ("integer", "float", "true", "false", "none"):
        return True
    if _CONSTANT.match(t):
        return True
    if expr.type == "call" and S.last_name(S.call_name(expr)) in ("len", "int", "float", "count"):
        return True
    if expr.type == "identifier" and fn is not None and _bound_to_sql_text(S.text(expr), fn):
        return True
    if expr.type == "call" and S.last_name(S.call_name(expr)) == "join":
        # ", ".join("?" * n) / ", ".join(["%s"] * n): placeholders, not values
        return bool(re.fullmatch(r"""['"][^'"]*['"]\.join\(\s*(\[\s*)?['"](\?|%s|:\w+)['"]\s*\]?\s*\*\s*[\w.()]+\s*\)""", t))
    return False


def _bound_to_sql_text(name: str, fn: Node) -> bool:
    """``author_id = f"COALESCE({a}, {b})"``: a fragment this function assembles from strings, not a value."""
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    values = [n.child_by_field_name("right") for n in S.walk(body, skip_nested_functions=True)
              if n.type == "assignment" and S.text(n.child_by_field_name("left")) == name]
    return bool(values) and all(v is not None and (v.type in ("string", "concatenated_string") or (
        v.type == "call" and S.last_name(S.call_name(v)) in ("join", "format"))) for v in values)


def _interpolations(lit: Node) -> list[tuple[str, Node]]:
    """(text of the string before the value, value expression) for each ``{...}`` of an f-string."""
    out: list[tuple[str, Node]] = []
    before = ""
    for child in lit.children:
        if child.type == "interpolation":
            expr = next((c for c in child.named_children if c.type not in ("format_specifier", "type_conversion")),
                        None)
            if expr is not None:
                out.append((before, expr))
            before += "{}"
        elif child.type not in ("string_start", "string_end"):
            before += S.text(child)
    return out


def sql_injection(node: Node) -> Judgement | None:
    """S608 counts only when a value that is not a literal, constant or bind-parameter name lands where SQL
    expects a value (inside quotes, after ``=``, ``LIKE``, ``IN (``...). Identifiers and clause fragments
    assembled from constants (``FROM {table}``, ``WHERE {where}`` with ``?`` placeholders) are composition."""
    lit = _ancestor(node, ("string", "concatenated_string", "binary_operator", "call"))
    if lit is None:
        return Judgement(confidence="medium", why="SQL text built by formatting")
    fn = S.enclosing_function(lit)
    strings = [lit] if lit.type == "string" else [n for n in S.walk(lit) if n.type == "string"]
    for s in strings:
        for before, expr in _interpolations(s):
            head = before.rstrip()
            if head.endswith((":", "@")) or re.search(r"[:@]\w*$", before):
                continue  # :{key} / :tag_id_{i}: a bind-parameter name, the value is bound
            if _trusted_value(expr, fn):
                continue
            quoted = before.count("'") % 2 == 1
            if quoted or _VALUE_BEFORE.search(head):
                where = "inside a quoted SQL value" if quoted else "where SQL expects a value"
                return Judgement(why=f"`{S.text(expr)[:30]}` is put {where}",
                                 confidence="high" if quoted or expr.type == "identifier" else "medium")
            if expr.type == "identifier" and S.text(expr) in _params(fn):
                return Judgement(why=f"the caller's `{S.text(expr)}` becomes part of the SQL text", confidence="medium")
    # "... = '%s'" % name / "... = {}".format(x) / "... = '" + x + "'"
    outer = _ancestor(node, ("binary_operator", "call"))
    text = S.text(outer) if outer is not None else S.text(lit)
    if re.search(r"""(=|like|in\s*\()\s*'?(%s|%d|\{\}|\{\w+\})'?""", text, re.I) and "%" in text or ".format(" in text:
        if re.search(r"""(=|like|in\s*\()\s*'?(%s|%d|\{\}|\{\w+\})""", text, re.I):
            return Judgement(why="a value is formatted into the SQL text", confidence="high")
    if re.search(r"""(=|like)\s*'?["']\s*\+\s*\w""", text, re.I):
        return Judgement(why="a value is concatenated into the SQL text", confidence="high")
    if outer is not None and outer.type == "binary_operator":
        added = [n for n in S.walk(outer) if n.type == "identifier" and n.parent is not None
                 and n.parent.type == "binary_operator"]
        caller = [S.text(n) for n in added if S.text(n) in _params(fn)]
        if caller:
            return Judgement(why=f"the caller's `{caller[0]}` is concatenated into the SQL text", confidence="medium")
    return DROP


def _params(fn: Node | None) -> set[str]:
    if fn is None:
        return set()
    params = fn.child_by_field_name("parameters")
    out: set[str] = set()
    for p in params.named_children if params is not None else []:
        name = p if p.type == "identifier" else (p.child_by_field_name("name") or (
            p.named_children[0] if p.named_children else None))
        if name is not None and name.type == "identifier" and S.text(name) not in ("self", "cls"):
            out.add(S.text(name))
    return out


# --- unsafe-deserialization ---------------------------------------------------------------------

_OUTSIDE = re.compile(r"request|\brecv\b|\.recv\(|upload|body|\bfiles?\b|cookie|socket|\bform\b|query_params|headers",
                      re.I)


def unsafe_load(ctx: FileContext, code: str, node: Node) -> Judgement | None:
    call = _ancestor(node, ("call",))
    if call is None:
        return Judgement(confidence="medium")
    args = S.positional_args(call)
    arg = S.text(args[0]) if args else ""
    if code == "S301" and re.match(r"^(pickle|cPickle|dill|cloudpickle)\.dumps\(", arg):
        return DROP  # pickle.loads(pickle.dumps(x)): a picklability probe on an in-process value
    if code in ("S102", "S307"):
        fn = S.enclosing_function(call)
        if args and _built_here(args[0], fn):
            return DROP  # exec/eval of source this function generated (a code template), not outside data
        if code == "S102" and _exec_into_new_module(call, fn):
            return DROP  # a module loader: running source as a new module is what import does, not deserialising
        if _environment_named_file(call, fn):
            return DROP  # the operator's own script, named by the environment (PYTHONSTARTUP for a shell)
        if _OUTSIDE.search(arg):
            return Judgement(why=f"`{S.last_name(S.call_name(call))}` runs `{arg[:30]}`, which comes from a request")
        return Judgement(confidence="low", severity="medium",
                         why="exec/eval of code whose origin is not visible here (often a trusted plugin or template)")
    if _OUTSIDE.search(arg):
        return Judgement(why=f"`{arg[:30]}` comes from a request or socket")
    return Judgement(confidence="low", severity="medium",
                     why="unpickles bytes whose origin is not visible here; unsafe only if an outsider can write them")


def _environment_named_file(call: Node, fn: Node | None) -> bool:
    """``with open(path) as f: exec(f.read())`` where ``path`` comes from the process environment
    (``os.environ``/``os.getenv``): whoever sets the environment already runs code as this process, so running
    the file it names (a shell's ``PYTHONSTARTUP``) trusts nobody new."""
    if fn is None or ".read()" not in S.text(call):
        return False
    stmt = _ancestor(call, ("with_statement",))
    m = re.search(r"\bopen\(\s*(\w+)", S.text(stmt)) if stmt is not None else None
    if m is None:
        return False
    return re.search(rf"\b{re.escape(m.group(1))}\s*=\s*os\.(environ\.get\(|environ\[|getenv\()",
                     S.text(fn)) is not None


_NEW_MODULE = re.compile(r"^((types|importlib\.util)\.)?(ModuleType|module_from_spec)$")


def _exec_into_new_module(call: Node, fn: Node | None) -> bool:
    """``exec(source, module.__dict__)`` where ``module = types.ModuleType(...)`` (or ``module_from_spec``) in
    this function: the source becomes a module, as ``import`` would make it. Who may install that source is
    the question (a plugin system's), not the deserialisation of outside data."""
    args = S.positional_args(call)
    if len(args) < 2 or fn is None:
        return False
    m = re.fullmatch(r"(\w+)\.__dict__|vars\((\w+)\)", S.text(args[1]))
    if m is None:
        return False
    name = m.group(1) or m.group(2)
    body = fn.child_by_field_name("body")
    for n in S.walk(body, skip_nested_functions=True) if body is not None else []:
        if n.type == "assignment" and S.text(n.child_by_field_name("left")) == name:
            right = n.child_by_field_name("right")
            if right is not None and right.type == "call" and _NEW_MODULE.match(S.call_name(right)):
                return True
    return False


def _loads_module(fn: Node) -> bool:
    return any(n.type == "call" and S.call_name(n) == "exec" and _exec_into_new_module(n, fn)
               for n in S.walk(fn, skip_nested_functions=True))


def _built_here(arg: Node, fn: Node | None) -> bool:
    """``definition = TEMPLATE.format(...)`` / an f-string / a literal, bound in this function."""
    if S.is_string_literal(arg) or arg.type == "string":
        return True
    if arg.type != "identifier" or fn is None:
        return False
    name = S.text(arg)
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    values = [n.child_by_field_name("right") for n in S.walk(body, skip_nested_functions=True)
              if n.type == "assignment" and S.text(n.child_by_field_name("left")) == name]
    return bool(values) and all(v is not None and (v.type == "string" or (
        v.type == "call" and S.last_name(S.call_name(v)) in ("format", "join", "dedent"))) for v in values)


# --- blocking-call-in-async: open() -------------------------------------------------------------

_STARTUP = re.compile(r"startup|start_up|lifespan|bootstrap|migrat|on_start|init_|_init$|^init$|setup|import_legacy",
                      re.I)


def blocking_open(ctx: FileContext, node: Node) -> Judgement | None:
    fn = S.enclosing_function(node)
    if fn is None:
        return DROP
    if _STARTUP.search(S.function_name(fn)) or any(
            re.search(r"on_event\(\s*['\"]startup|lifespan", S.decorator_text(d)) for d in S.decorators(fn)):
        return DROP  # runs once before the server takes requests: nothing else is waiting on the loop
    if _loads_module(fn):
        return DROP  # a module loader: executing the module blocks the loop as an import does; the file is its source
    stmt = _ancestor(node, ("with_statement",))
    if stmt is not None and re.search(r"to_thread|run_in_executor|run_sync", S.text(stmt)):
        return DROP  # the read itself already runs in a worker thread; open() is a quick syscall
    return Judgement(severity="low", confidence="medium",
                     why="local file I/O inside async def: short unless the file is large or the disk is slow")


# --- swallowed-exception: where the error was hidden ----------------------------------------------

_PARSE_CALLS = re.compile(r"^(int|float|str|bool|Decimal|json\.loads|loads|literal_eval|fromisoformat|strptime|"
                          r"parse\w*|decode|encode|getattr|\w+\.json|\w+\.text|\w+\.get|import_module|version|"
                          r"b64decode|urlparse|len|next|isoformat|detect|guess_type|\w*_?loads|\w*_?dumps|max|min|round|"
                          r"abs)$")
_WRITE_SQL = re.compile(r"\b(INSERT|UPDATE|DELETE)\b|\.(commit|add|add_all|delete|merge|bulk_\w+|insert|update)\(",
                        re.I)


def swallowed(ctx: FileContext, handler: Node) -> Judgement | None:
    """Split a broad swallow by what the ``try`` did: a database/network/task step whose failure now reads
    as "nothing" (medium, high confidence; high severity for a write in a migration), or a fallback to a
    default around a parse/lookup (dropped), or other work (low). Other work is dropped too when the code
    shows the swallow is meant: a name keeps its prior value, a predicate fails closed, an error being raised
    anyway loses a detail, or the function documents itself as best-effort."""
    try_stmt = handler.parent
    body = try_stmt.child_by_field_name("body") if try_stmt is not None else None
    if try_stmt is None or body is None:
        return Judgement(confidence="medium")
    hidden = _hidden_io(ctx, body)
    if hidden is not None:
        return hidden
    if _parse_only(body):
        return DROP  # a fallback to a default around parsing or a lookup: the except is the intended path
    if _names_exception(handler):
        block = next((c for c in handler.named_children if c.type == "block"), None)
        stmts = [c for c in block.named_children if c.type != "comment"] if block is not None else []
        if any(c.type == "comment" and S.line(c) > S.line(handler) for c in S.walk(handler)):
            return DROP  # the author wrote down why the error is ignored here: a decision, not an oversight
        if stmts and all(_assigns_default(c) for c in stmts):
            return DROP  # `except Exception: x = default`: a fallback value the code goes on with
        if _keeps_prior_value(body, stmts, try_stmt):
            return DROP  # `x = raw; try: x = unquote(x) except: pass`: x keeps the value it had, a fallback
        if _fails_closed(body, stmts, try_stmt):
            return DROP  # a predicate answers False when it cannot decide: it fails closed, on purpose
    if _detail_of_raised_error(try_stmt):
        return DROP  # enriching an error that the outer handler raises anyway: only a detail is lost
    if _documented_best_effort(try_stmt):
        return DROP  # the function's docstring says it is best-effort / never raises: a decision, written down
    return _OTHER_WORK


def _only_pass(stmts: list[Node]) -> bool:
    return len(stmts) == 1 and stmts[0].type == "pass_statement"


def _keeps_prior_value(body: Node, stmts: list[Node], try_stmt: Node) -> bool:
    """The try only reassigns names that already hold a value (computed, not awaited), and the handler is ``pass``:
    on failure each name keeps its earlier value (the raw input), as ``with suppress(Exception)`` would."""
    tried = [c for c in body.named_children if c.type != "comment"]
    if not _only_pass(stmts) or not tried or not all(_assigns_default(c) for c in tried):
        return False
    if any(n.type == "await" for n in S.walk(body, skip_nested_functions=True)):
        return False  # awaited work that silently did not happen is more than a fallback to the raw value
    fn = S.enclosing_function(try_stmt)
    fbody = fn.child_by_field_name("body") if fn is not None else None
    if fbody is None:
        return False
    earlier = {S.text(n.child_by_field_name("left")) for n in S.walk(fbody, skip_nested_functions=True)
               if n.type == "assignment" and n.end_byte <= try_stmt.start_byte}
    params = fn.child_by_field_name("parameters") if fn is not None else None
    if params is not None:
        earlier |= {S.text(i) for i in S.walk(params) if i.type == "identifier"}
    targets = [S.text(c.named_children[0].child_by_field_name("left")) for c in tried]
    return all(t in earlier for t in targets)


_PREDICATE = re.compile(r"^_*(is|has|can|check|verify|validate|valid|should|matches|allowed)(_|$)|_valid$|^valid")


def _fails_closed(body: Node, stmts: list[Node], try_stmt: Node) -> bool:
    """``except Exception: return False`` in a predicate (``-> bool`` or an is_/has_/verify_ name) whose try does
    no awaited work: malformed input makes the check say no, which is what a check should do."""
    if len(stmts) != 1 or stmts[0].type != "return_statement" or S.text(stmts[0]).split() != ["return", "False"]:
        return False
    fn = S.enclosing_function(try_stmt)
    if fn is None or any(n.type == "await" for n in S.walk(body, skip_nested_functions=True)):
        return False
    ret = fn.child_by_field_name("return_type")
    return (ret is not None and S.text(ret) == "bool") or bool(_PREDICATE.search(S.function_name(fn)))


def _detail_of_raised_error(try_stmt: Node) -> bool:
    """The swallowing try sits inside an ``except`` clause that raises after it: it only tries to add a detail
    (the error body, a message) to an error that is raised anyway."""
    outer = next((a for a in S.ancestors(try_stmt) if a.type in ("except_clause", "function_definition")), None)
    if outer is None or outer.type != "except_clause":
        return False
    return any(n.type == "raise_statement" and n.start_byte > try_stmt.end_byte
               for n in S.walk(outer, skip_nested_functions=True))


def _documented_best_effort(try_stmt: Node) -> bool:
    fn = S.enclosing_function(try_stmt)
    body = fn.child_by_field_name("body") if fn is not None else None
    first = next((c for c in body.named_children if c.type != "comment"), None) if body is not None else None
    if first is None or first.type != "expression_statement" or not first.named_children \
            or first.named_children[0].type != "string":
        return False
    doc = " ".join(S.text(first).split()).lower()
    return bool(re.search(r"best[- ]effort|never raises|errors? (are|is) ignored|ignores? (all )?errors", doc))


def suppressed(ctx: FileContext, body: Node | None) -> Judgement | None:
    """``with suppress(Exception): ...`` is ``try: ... except Exception: pass``, judged the same way by what
    its block does; a block that only assigns keeps the value set before it: a fallback, like
    ``except Exception: x = default``."""
    if body is None:
        return Judgement(confidence="medium")
    hidden = _hidden_io(ctx, body)
    if hidden is not None:
        return hidden
    stmts = [c for c in body.named_children if c.type != "comment"]
    if _parse_only(body) or (stmts and all(_assigns_default(c) for c in stmts)):
        return DROP
    return _OTHER_WORK


_OTHER_WORK = Judgement(confidence="low", severity="low",
                        why="a broad except that neither logs nor re-raises, around work that is neither I/O nor parsing")


def _parse_only(body: Node) -> bool:
    calls = [S.call_name(n) for n in S.walk(body, skip_nested_functions=True) if n.type == "call"]
    return all(_PARSE_CALLS.match(S.last_name(c)) or _PARSE_CALLS.match(c) for c in calls) and len(calls) <= 4


def _hidden_io(ctx: FileContext, body: Node) -> Judgement | None:
    """A database/network/task step in ``body`` whose failure a swallow turns into "nothing", or None."""
    calls = [(n, S.call_name(n)) for n in S.walk(body, skip_nested_functions=True) if n.type == "call"]
    io = [c for n, c in calls if is_db_query_call(n, c) or _io_call(c) or _db_context(n, c)]
    if io:
        write = bool(_WRITE_SQL.search(S.text(body)))
        sev = "high" if write and ctx.is_migration else "medium"
        what = "a database write" if write else "a database or network call"
        return Judgement(severity=sev,
                         why="error hidden in the data/task layer: " + f"{what} (`{io[0][:40]}`) fails silently: the caller cannot tell an outage from no data",
                         problem="the error is swallowed: nothing is logged and the caller gets a normal-looking "
                                 "result, so an outage reads as 'no data'" + (
                                     "; in a migration on PostgreSQL one failed statement aborts the transaction "
                                     "and every later write is silently lost" if sev == "high" else ""))
    return None


_IO_METHODS = re.compile(r"^(execute\w*|commit|flush|fetch\w*|scalar\w*|query|search|get|get_\w+|send\w*|post|put|"
                         r"patch|request|urlopen|publish|enqueue|delay|apply_async|upload\w*|download\w*|write|"
                         r"insert\w*|update\w*|delete\w*|create\w*|save|refresh)$")
_IO_RECEIVERS = re.compile(r"(^|\.|_)(db|session|conn|connection|cursor|cur|engine|op|client|http|redis|s3|"
                           r"requests|httpx|aiohttp|smtp|broker|queue|producer|storage|bucket)$|^[A-Z]\w+s$")


def _io_call(callee: str) -> bool:
    if "." not in callee or "(" in callee:
        return False
    recv, method = callee.rsplit(".", 1)
    # a method reached through a client (`self.client.collections.delete`) goes over the network too
    return bool(_IO_METHODS.match(method) and (_IO_RECEIVERS.search(recv) or re.search(r"(^|\.)client\.", recv)))


_DB_CONTEXT = re.compile(r"(^|_)(db|session|transaction|connection|conn|cursor)(_|$)|^(get_)?(async_)?db", re.I)


def _db_context(call: Node, callee: str) -> bool:
    """``with get_db_context(db) as db:`` / ``async with self._chat_transaction(id) as (session, row):``: the
    block runs inside a database session or transaction."""
    parent = call.parent
    while parent is not None and parent.type in ("as_pattern", "await"):
        parent = parent.parent
    return parent is not None and parent.type == "with_item" and bool(_DB_CONTEXT.search(S.last_name(callee)))


def _names_exception(handler: Node) -> bool:
    """``except Exception:`` (not a bare ``except:``, which also swallows KeyboardInterrupt and SystemExit)."""
    return any(c.type not in ("block", "comment") for c in handler.named_children)


def _assigns_default(stmt: Node) -> bool:
    if stmt.type != "expression_statement" or not stmt.named_children:
        return False
    first = stmt.named_children[0]
    return first.type == "assignment" and first.child_by_field_name("right") is not None


# --- mutable-default-argument: only when the default can leak ----------------------------------------

_MUTATE = r"\.(append|extend|add|update|setdefault|insert|pop|remove|clear|discard|sort)\("


def mutable_default(node: Node) -> Judgement | None:
    """B006 counts when the function mutates, returns or stores the default; a default only read is harmless."""
    param = _ancestor(node, ("default_parameter", "typed_default_parameter"))
    fn = _ancestor(node, ("function_definition",))
    if param is None or fn is None:
        return Judgement(confidence="medium")
    name_node = param.child_by_field_name("name")
    name = S.text(name_node)
    body = S.text(fn.child_by_field_name("body"))
    n = re.escape(name)
    if re.search(rf"\b{n}{_MUTATE}|\b{n}\[[^\]]*\]\s*[+\-*/|]?=(?!=)|\breturn\s+{n}(?![\w.(\[])|"
                 rf"\byield\s+{n}(?![\w.(\[])|"
                 rf"\bdel\s+{n}\[", body, re.M):
        return Judgement(confidence="high", why=f"`{name}` is mutated or returned, so one call's changes leak into the next")
    stored = re.findall(rf"^\s*self\.(\w+)\s*=\s*{n}\s*$", body, re.M)
    if stored:
        cls = _ancestor(fn, ("class_definition",))
        text = S.text(cls) if cls is not None else body
        if any(re.search(rf"\bself\.{re.escape(a)}(?:{_MUTATE}|\[[^\]]*\]\s*[+\-*/|]?=(?!=))", text) for a in stored):
            return Judgement(confidence="high", why=f"`{name}` is stored on the instance and mutated there: "
                                                    "every instance built with the default shares the changes")
        return Judgement(confidence="low", why=f"`{name}` is stored on the instance: instances built with the default "
                                               "share one object, though this class never changes it")
    if re.search(rf"=\s*{n}\s*$", body, re.M):
        return Judgement(confidence="high", why=f"`{name}` is stored, so one call's changes leak into the next")
    return DROP


# --- missing-timeout: where the call runs -----------------------------------------------------------

def timeout_place(node: Node) -> Judgement:
    fn = S.enclosing_function(node)
    if fn is None:
        return Judgement(severity="high", why="runs at import time: a stalled server keeps the app from starting")
    if S.is_async_def(fn):
        return Judgement(severity="high", why="inside async def: a stalled server freezes the whole event loop")
    if is_route_handler(fn):
        return Judgement(severity="medium", why="on a request path: a stalled server holds this worker")
    return Judgement(severity="medium", why="no timeout: a stalled server holds this thread")


# --- print-instead-of-logging ------------------------------------------------------------------------

_GATED = re.compile(r"environ|getenv|debug|verbose|quiet|DEBUG|VERBOSE|C_\w+|tty|isatty", re.I)


def print_call(ctx: FileContext, node: Node) -> Judgement | None:
    for anc in S.ancestors(node):
        if anc.type in ("if_statement", "elif_clause"):
            cond = anc.child_by_field_name("condition")
            if cond is not None and _GATED.search(S.text(cond)):
                return DROP  # console output switched on by a debug/verbosity flag on purpose
    fn = S.enclosing_function(node)
    if fn is None:
        return DROP  # import-time console output (a banner): printed once, on purpose
    if fn is not None and re.search(r"banner|usage|help|progress|status|report|show|display|echo|main|run$",
                                    S.function_name(fn), re.I):
        return DROP  # a function whose job is console output
    if _configures_logging(fn):
        return DROP  # a program's entry point (it sets up logging itself): its prints are the command's console output
    if _ancestor(node, ("except_clause",)) is not None:
        return Judgement(confidence="high", why="an error is printed instead of logged: no level, no traceback")
    if fn is not None and (S.is_async_def(fn) or is_route_handler(fn)):
        return Judgement(confidence="high", why="print in request-serving code bypasses the logging setup")
    call = _ancestor(node, ("call",))
    if call is not None and re.search(r"\bfile\s*=\s*sys\.(stderr|stdout|__stderr__)", S.text(call)):
        return DROP  # written to a console stream chosen on purpose (a crash report, a tool's own output)
    return Judgement(confidence="medium", why="print in library/application code")


_LOG_SETUP = re.compile(r"^(basicConfig|dictConfig|fileConfig|\w*setup_logging\w*|configure_logging\w*)$")


def _configures_logging(fn: Node) -> bool:
    """The function sets up logging itself (``logging.basicConfig``, ``app.log.setup_logging_subsystem``):
    library code never does, a program's entry point (a command's ``main``) does."""
    return any(n.type == "call" and _LOG_SETUP.match(S.last_name(S.call_name(n)))
               for n in S.walk(fn, skip_nested_functions=True))

