"""Ruff as a rule engine: run the pinned binary with an explicit selection, map its codes onto our topics.

Ruff runs isolated (``--isolated``: the user's own ruff configuration cannot change
the selection) and without a cache (nothing is written into the reviewed repo).
Some codes only count under conditions ruff cannot see (``S311`` only when the
random value is a token or code, ``T201`` not under ``if __name__ == "__main__"``,
``BLE001`` only when the handler neither logs nor re-raises): those are checked
against the tree-sitter tree of the file in ``filter_ruff``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules import precision as P
from mentor_local.analysis.rules.common import cli_module, in_cli_command
from mentor_local.analysis.rules.exceptions import handler_handles, handler_is_broad
from mentor_local.security.secrets import looks_secret

if TYPE_CHECKING:
    from tree_sitter import Node

# code -> (topic, what the problem is, card hints)
RUFF_MAP: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ASYNC210": ("blocking-call-in-async", "a blocking HTTP call inside `async def` stalls the event loop for every request", ("http", "client")),
    "ASYNC212": ("blocking-call-in-async", "a blocking httpx.Client call inside `async def` stalls the event loop", ("http", "client")),
    "ASYNC220": ("blocking-call-in-async", "starting a subprocess synchronously inside `async def` blocks the event loop", ("subprocess",)),
    "ASYNC221": ("blocking-call-in-async", "running a subprocess synchronously inside `async def` blocks the event loop until it exits", ("subprocess",)),
    "ASYNC222": ("blocking-call-in-async", "waiting on a process synchronously inside `async def` blocks the event loop", ("subprocess",)),
    "ASYNC230": ("blocking-call-in-async", "`open()` and file reads inside `async def` block the event loop; use `asyncio.to_thread` or anyio", ("to_thread",)),
    "ASYNC251": ("blocking-call-in-async", "`time.sleep()` inside `async def` freezes the whole event loop; use `await asyncio.sleep()`", ("to_thread",)),
    "S113": ("missing-timeout", "this HTTP call has no timeout, so a stalled server can hang this worker forever", ("timeout", "http")),
    "S608": ("sql-injection", "SQL text is built from variables by string formatting, so crafted input can rewrite the query; pass values as bound parameters", ("parameterised",)),
    "S611": ("sql-injection", "`RawSQL` built from variables lets crafted input rewrite the query", ("parameterised",)),
    "S105": ("hardcoded-secret", "a credential is written into the source; read it from the environment or a secret store", ("settings",)),
    "S106": ("hardcoded-secret", "a password is passed as a string literal; read it from the environment or a secret store", ("settings",)),
    "S107": ("hardcoded-secret", "a password is the default value of a parameter; read it from the environment or a secret store", ("settings",)),
    "S301": ("unsafe-deserialization", "unpickling data runs arbitrary code if the bytes come from outside; use JSON", ()),
    "S302": ("unsafe-deserialization", "`marshal` loads of outside data can crash or exploit the interpreter; use JSON", ()),
    "S307": ("unsafe-deserialization", "`eval()` on data runs whatever code the input contains; use `ast.literal_eval` or a parser", ()),
    "S102": ("unsafe-deserialization", "`exec()` runs whatever code it is given", ()),
    "S506": ("unsafe-deserialization", "`yaml.load` with an unsafe Loader can build arbitrary Python objects from the input; use `yaml.safe_load`", ()),
    "S311": ("insecure-random", "the `random` module is predictable, so this token/code can be guessed; use `secrets`", ("secrets",)),
    "S324": ("weak-password-hash", "md5/sha1 are fast, broken digests; never use them for passwords", ("password",)),
    "S602": ("command-injection", "`shell=True` with an interpolated command lets input run extra shell commands; pass an argument list", ("subprocess",)),
    "S604": ("command-injection", "`shell=True` with an interpolated command lets input run extra shell commands; pass an argument list", ("subprocess",)),
    "S605": ("command-injection", "`os.system`/`os.popen` run the command through a shell, so interpolated input can run extra commands; use subprocess with a list", ("subprocess",)),
    "B006": ("mutable-default-argument", "a mutable default is created once and shared by every call, so state leaks between calls; default to None", ("default", "arguments")),
    "T201": ("print-instead-of-logging", "`print()` in application code bypasses log levels, formatting and shipping; use a module logger", ("logging", "print")),
    "T203": ("print-instead-of-logging", "`pprint()` in application code bypasses the logging setup; use a module logger", ("logging", "print")),
    "E722": ("swallowed-exception", "a bare `except:` here swallows every error (even KeyboardInterrupt) without logging it", ("exception", "reraise")),
    "BLE001": ("swallowed-exception", "`except Exception` here hides the error: nothing is logged and nothing is re-raised", ("exception", "reraise")),
    "S110": ("swallowed-exception", "`except ...: pass` throws the error away without a trace", ("exception", "reraise")),
    "S112": ("swallowed-exception", "`except ...: continue` skips the item and throws the error away without a trace", ("exception", "reraise")),
    "S201": ("debug-enabled", "`app.run(debug=True)` exposes the Werkzeug debugger (remote code execution) to anyone who triggers an error", ("flask", "config")),
    "B019": ("unbounded-memory", "`lru_cache`/`cache` on a method keys the cache on `self`, keeping every instance alive for the life of the process", ("cache",)),
    "RUF006": ("shared-state-race", "an untracked task: the event loop keeps only a weak reference to it, so it can be garbage-collected before it finishes, and an exception in it is never seen; keep it in a set (discard on done) or use a TaskGroup", ("task", "references")),
    "SIM115": ("resource-leak", "the file is opened without `with`, so an exception leaks the handle", ("context",)),
}
RUFF_SELECT: tuple[str, ...] = tuple(RUFF_MAP)
_SEVERITY = {"S201": "high", "S602": "high", "S605": "high", "S608": "high", "S301": "high", "S307": "high"}

_TOKENISH = re.compile(
    r"token|secret|passw|pwd|otp|nonce|salt|csrf|api_?key|apikey|session_?(id|key)|invite|verif|reset|"
    r"confirm|activation|one_?time|\bpin\b|_pin\b|auth(?!or)", re.I
)
_CODEISH = re.compile(r"code", re.I)
_NOT_SECURITY = re.compile(r"status_code|error_code|exit_code|country_code|currency_code|color|colour|jitter|delay|"
                           r"backoff|sample|shuffle|retry|weight|mock|fake|demo|seed|test", re.I)


class _Location(TypedDict):
    row: int
    column: int


class RuffDiagnostic(TypedDict):
    """The fields of one item of ``ruff check --output-format json`` that the review reads."""

    code: str
    filename: str
    location: _Location
    end_location: NotRequired[_Location]


@dataclass(frozen=True)
class RuffResult:
    by_path: dict[str, list[RuffDiagnostic]]
    error: str | None = None


def find_ruff() -> list[str] | None:
    """The ruff executable of this environment (the pinned one), else one on PATH."""
    try:
        from ruff.__main__ import find_ruff_bin

        return [os.fsdecode(find_ruff_bin())]
    except (ImportError, FileNotFoundError):
        pass
    exe = "ruff.exe" if sys.platform == "win32" else "ruff"
    candidate = Path(sysconfig.get_path("scripts")) / exe
    if candidate.is_file():
        return [str(candidate)]
    found = shutil.which("ruff")
    return [found] if found else None


_MAX_ARGS_CHARS = 24_000  # stay far below Windows' 32k command-line limit


def start_ruff(repo: Path, paths: Sequence[str]) -> list[subprocess.Popen[bytes]] | str | None:
    """Start ruff on ``paths`` (repo-relative); returns the processes, an error text, or None when nothing to do."""
    if not paths:
        return None
    cmd = find_ruff()
    if cmd is None:
        return "ruff not found (install the pinned ruff==0.17.5); ruff-based rules were skipped"
    base = [*cmd, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
            "--target-version", "py313", "--select", ",".join(RUFF_SELECT), "--"]
    batches: list[list[str]] = [[]]
    size = 0
    for p in paths:
        if batches[-1] and size + len(p) + 1 > _MAX_ARGS_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(p)
        size += len(p) + 1
    procs = []
    try:
        for batch in batches:
            procs.append(subprocess.Popen([*base, *batch], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    except OSError as exc:
        for proc in procs:
            proc.kill()
            proc.communicate()
        return f"could not run ruff: {exc}"
    return procs


def collect_ruff(repo: Path, procs: list[subprocess.Popen[bytes]] | str | None, timeout: float = 120) -> RuffResult:
    if procs is None:
        return RuffResult({})
    if isinstance(procs, str):
        return RuffResult({}, procs)
    items: list[RuffDiagnostic] = []
    error = None
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            error = "ruff timed out; some ruff-based findings are missing"
            continue
        try:
            items += json.loads(out.decode("utf-8") or "[]")
        except json.JSONDecodeError:
            error = f"ruff failed: {err.decode('utf-8', 'replace').strip()[:200]}"
    by_path: dict[str, list[RuffDiagnostic]] = {}
    root = repo.resolve()
    for item in items:
        code = item.get("code")
        if code not in RUFF_MAP:
            continue
        try:
            rel = Path(item["filename"]).resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        by_path.setdefault(rel, []).append(item)
    return RuffResult(by_path, error)


def ruff_findings(ctx: FileContext, items: list[RuffDiagnostic]) -> Iterator[RawFinding]:
    seen_handlers: set[int] = set()
    for item in items:
        code = item["code"]
        topic, problem, hints = RUFF_MAP[code]
        row = int(item["location"]["row"])
        end_location = item.get("end_location")
        end_row = int(end_location["row"]) if end_location is not None else row
        node = ctx.node_at(row, int(item["location"]["column"]))
        verdict = _keep(ctx, code, node, seen_handlers)
        if verdict is False:
            continue
        judged = _judge(ctx, code, node)
        if judged is None:
            continue
        if judged.problem:
            problem = judged.problem
        subject = verdict if isinstance(verdict, str) else _subject(ctx, row)
        message = f"{subject}: {problem}" if subject else problem[:1].upper() + problem[1:]
        start, end = row, max(row, min(end_row, row + 2))
        if code in ("B006", "S107") and node is not None:
            fn = S.enclosing_function(node) if node.type != "function_definition" else node
            if fn is not None and S.line(fn) < row:
                start, end = S.line(fn), row  # the signature: from `def` to the parameter
        yield RawFinding(start, end, topic, code, message,
                         severity=judged.severity or _SEVERITY.get(code), hints=hints + ctx.framework_hints(),
                         confidence=judged.confidence, why=judged.why or f"ruff {code}")


def _judge(ctx: FileContext, code: str, node: Node | None) -> P.Judgement | None:
    """Context the ruff rule does not see: None drops the diagnostic, else severity/confidence/why."""
    if node is None:
        return P.Judgement()
    if code == "S608":
        return P.sql_injection(node)
    if code in ("S301", "S302", "S102", "S307"):
        return P.unsafe_load(ctx, code, node)
    if code == "ASYNC230":
        return P.blocking_open(ctx, node)
    if code in ("E722", "BLE001", "S110", "S112"):
        handler = next((a for a in [node, *S.ancestors(node)] if a.type == "except_clause"), None)
        return P.swallowed(ctx, handler) if handler is not None else P.Judgement(confidence="medium")
    if code == "B006":
        return P.mutable_default(node)
    if code == "S113":
        return P.timeout_place(node)
    if code in ("T201", "T203"):
        return P.print_call(ctx, node)
    if code == "RUF006":
        fn = S.enclosing_function(node)
        where = f" in `{S.function_name(fn)}`" if fn is not None else ""
        return P.Judgement(severity="medium",
                           why=f"untracked task: the task created{where} is not stored, awaited or given a done-callback")
    return P.Judgement()


def _subject(ctx: FileContext, row: int) -> str:
    if 0 < row <= len(ctx.lines):
        code = ctx.lines[row - 1].split("#", 1)[0].strip()
        if code:
            return f"`{code[:70]}{'…' if len(code) > 70 else ''}`"
    return ""


def _keep(ctx: FileContext, code: str, node: Node | None, seen_handlers: set[int]) -> bool | str:
    """False to drop a ruff diagnostic that our topic does not cover; True (or a subject text) to keep it."""
    if node is None:
        return True
    if code in ("T201", "T203"):
        return not (S.under_main_guard(node) or ctx.is_script or in_cli_command(node) or cli_module(ctx))
    if code in ("E722", "BLE001", "S110", "S112"):
        handler = next((a for a in [node, *S.ancestors(node)] if a.type == "except_clause"), None)
        if handler is None:
            return True
        if handler.id in seen_handlers or not handler_is_broad(handler) or handler_handles(handler):
            return False
        seen_handlers.add(handler.id)
        return f"`{S.text(handler).splitlines()[0].strip()[:60]}`"
    if code == "S311":
        return _random_for_secret(node)
    if code in ("S105", "S106", "S107"):
        lit = node if node.type in ("string", "concatenated_string") else next(
            (a for a in S.ancestors(node) if a.type in ("string", "concatenated_string")), None)
        if lit is None:
            stmt = S.statement_of(node)
            strings = [n for n in S.walk(stmt) if n.type == "string"]
            lit = strings[-1] if strings else None
        return lit is not None and S.is_string_literal(lit) and looks_secret(S.string_value(lit))
    if code in ("S602", "S604", "S605"):
        call = next((a for a in [node, *S.ancestors(node)] if a.type == "call"), None)
        args = S.positional_args(call) if call is not None else []
        return not (args and (S.is_string_literal(args[0]) or _constant_string(ctx, args[0])))
    if code == "S324":
        return _about_password(node)
    if code == "SIM115":
        from mentor_local.analysis.rules.data import leak_verdict

        call = next((a for a in [node, *S.ancestors(node)] if a.type == "call"), None)
        return call is None or leak_verdict(call) is not None
    return True


def _constant_string(ctx: FileContext, node: Node) -> bool:
    """``CMD = "pg_dump app"`` ... ``os.system(CMD)``: a name bound only to one plain string literal."""
    if node.type != "identifier":
        return False
    name = S.text(node)
    bound = [m for m in ctx.matches("assignments") if m.get("target") and S.text(m["target"][0]) == name]
    others = re.search(rf"^\s*{re.escape(name)}\s*(:[^=\n]*)?[+]?=(?!=)(?!\s*[rbuRBU]?[\"'])", ctx.text, re.M)
    return len(bound) == 1 and bound[0].get("value", [None])[0] is not None and S.is_string_literal(
        bound[0]["value"][0]) and others is None


def _random_for_secret(node: Node) -> bool:
    """S311 counts only when the random value becomes a token, code, password or key."""
    stmt = S.statement_of(node)
    fn = S.enclosing_function(node)
    context_names = []
    if stmt.type == "expression_statement" and stmt.named_children:
        first = stmt.named_children[0]
        if first.type in ("assignment", "augmented_assignment"):
            context_names.append(S.text(first.child_by_field_name("left")))
    if stmt.type == "return_statement" and fn is not None:
        context_names.append(S.function_name(fn))
    elif fn is not None:
        context_names.append(S.function_name(fn))
    text = " ".join(context_names)
    if _NOT_SECURITY.search(text):
        return False
    return bool(_TOKENISH.search(text) or (_CODEISH.search(text) and not _NOT_SECURITY.search(text)))


def _about_password(node: Node) -> bool:
    call = next((a for a in [node, *S.ancestors(node)] if a.type == "call"), None)
    if call is None:
        return False
    names = " ".join(n for a in S.positional_args(call) for n in S.identifiers(a))
    fn = S.enclosing_function(call)
    fname = S.function_name(fn) if fn is not None else ""
    return bool(re.search(r"pass(word|wd)?|pwd|credential", f"{names} {fname}", re.I))
