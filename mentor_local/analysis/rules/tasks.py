"""Background jobs that call the network with no retry policy (Celery, RQ, Dramatiq, FastAPI background tasks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import HTTP_METHODS, body_nodes

if TYPE_CHECKING:
    pass


_TASK_DECORATOR = re.compile(r"^@\s*((\w+\.)*task|shared_task|(\w+\.)*periodic_task|huey\.\w*task|(\w+\.)*actor)\s*(\(|$)")
_NETWORK_CALL = re.compile(
    r"^(requests|httpx|urllib\.request|urllib3|aiohttp|smtplib|stripe|boto3|sendgrid|twilio|slack_sdk|paramiko|"
    r"ftplib|openai|mailchimp\w*|pusher|firebase_admin)\.|"
    r"(^|\.)(urlopen|send_message|sendmail|send_mail|send_email|send_sms|upload_file|put_object|post_message|"
    r"chat_postMessage)$"
)
# a client's request methods, and ``send`` (an SMTP, SMS or chat client sending a message)
_CLIENT_CALLS = HTTP_METHODS | {"send"}
_CLIENT_RECEIVER = re.compile(r"(client|session|http|api|requests|stripe|s3|sns|sqs|smtp|mailer|slack)$", re.I)


def _network_functions(ctx: FileContext) -> dict[str, str]:
    """Functions defined in this file that call the network: name -> the first network call."""
    out: dict[str, str] = {}
    for fn in ctx.nodes("functions", "function"):
        for n in body_nodes(fn):
            if n.type == "call":
                callee = S.call_name(n)
                if "(" not in callee and _is_network_call(callee):
                    out[S.function_name(fn)] = callee
                    break
    return out


def _is_network_call(callee: str) -> bool:
    recv = callee.rsplit(".", 1)[0] if "." in callee else ""
    return bool(_NETWORK_CALL.search(callee)) or (
        S.last_name(callee) in _CLIENT_CALLS
        and bool(_CLIENT_RECEIVER.search(recv.rsplit(".", 1)[-1]))
    )


_SELF_RETRYING = re.compile(r"@\s*(\w+\.)*(retry|retrying|backoff\.on_exception|on_exception|stamina\.retry)\b")


def rq_enqueue_without_retry(ctx: FileContext) -> Iterator[RawFinding]:
    """RQ ``queue.enqueue(send_receipt, ...)`` with no ``retry=Retry(...)``, or FastAPI/Starlette
    ``background_tasks.add_task(send_receipt, ...)`` (which never retries), for a job that calls the network."""
    if ".enqueue" not in ctx.text and ".add_task" not in ctx.text:
        return
    network = _network_functions(ctx)
    retrying = {S.function_name(fn) for fn in ctx.nodes("functions", "function")
                if any(_SELF_RETRYING.match(S.decorator_text(d)) for d in S.decorators(fn))}
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        if method not in ("enqueue", "enqueue_call", "enqueue_in", "enqueue_at", "add_task"):
            continue
        if method == "add_task" and not re.search(r"background|tasks$|^bg", callee.rsplit(".", 1)[0], re.I):
            continue
        kw = S.keyword_args(call)
        if "retry" in kw:
            continue
        args = S.positional_args(call)
        target = kw.get("func") or (args[0] if args else None)
        name = S.text(target).rsplit(".", 1)[-1] if target is not None else ""
        # background tasks run in-process: only a job defined here, seen to call the network, counts
        job_net = network.get(name) or (name if method != "add_task" and _NETWORK_NAME.search(name) else None)
        if not job_net or name in retrying:
            continue
        if method == "add_task":
            yield RawFinding(
                S.line(call), S.line(call), "task-without-retry", "background-task-no-retry",
                f"`{callee}({name}, ...)` runs a network job as an in-process background task: it is never retried "
                "and is lost if the request's worker restarts; use a queue with retries (or retry inside the job)",
                hints=("background", "fastapi", "retries"),
            )
            continue
        yield RawFinding(
            S.line(call), S.line(call), "task-without-retry", "rq-no-retry",
            f"`{callee}({name}, ...)` queues a job that calls the network with no `retry=Retry(max=..., interval=[...])`: "
            "one failed request and the job lands in the failed registry for good",
            hints=("retries", "backoff", "queue"),
        )


_NETWORK_NAME = re.compile(r"(send|deliver|notify|webhook|sync|charge|email|sms|fetch)_?", re.I)


def task_without_retry(ctx: FileContext) -> Iterator[RawFinding]:
    if "task" not in ctx.text:
        return
    for fn in ctx.nodes("functions", "function"):
        decos = S.decorators(fn)
        task_decos = [d for d in decos if _TASK_DECORATOR.match(S.decorator_text(d))]
        if not task_decos:
            continue
        deco_text = S.decorator_text(task_decos[0])
        if re.search(r"autoretry_for|retry_backoff|\bretry\s*=|\bretries\s*=|base\s*=", deco_text):
            continue
        if re.match(r"@\s*(\w+\.)*actor\b", deco_text) and not re.search(r"max_retries\s*=\s*0\b", deco_text):
            continue  # Dramatiq retries by default (up to 20 times with backoff)
        body = body_nodes(fn)
        if any(n.type == "call" and S.last_name(S.call_name(n)) == "retry" for n in body):
            continue
        network = None
        for n in body:
            if n.type != "call":
                continue
            callee = S.call_name(n)
            if "(" not in callee and _is_network_call(callee):
                network = callee
                break
        if network is None:
            continue
        yield RawFinding(
            S.line(task_decos[0]), S.line(fn), "task-without-retry", "task-no-retry",
            f"task `{S.function_name(fn)}` calls the network (`{network}`) but has no retry policy: one timeout or "
            "503 and the job is lost; add autoretry_for with retry_backoff and a max_retries",
            hints=("celery", "retries", "backoff"),
        )
