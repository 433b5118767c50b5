"""Probe a GGUF in a child process before loading it here.

A malformed model can crash llama.cpp's native loader (a segfault cannot be
caught in Python); a child process takes the crash instead of the app, and
its exit status becomes a ``ModelError`` with a clear message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mentor_local.errors import ModelError

# Runs in the child: load the model fully (small context, CPU) with native logging silenced.
_SCRIPT = r"""
import json, os, sys
for k, v in {"HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}.items():
    os.environ[k] = v
import llama_cpp
_cb = llama_cpp.llama_log_callback(lambda level, text, data: None)
llama_cpp.llama_log_set(_cb, None)
try:
    m = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=64, n_gpu_layers=0, n_threads=1, verbose=False)
except Exception as exc:
    print(json.dumps({"ok": False, "error": " ".join(str(exc).split())[:300]}))
    sys.exit(0)
md = m.metadata
arch = md.get("general.architecture", "")
print(json.dumps({"ok": True, "chat_template": bool(md.get("tokenizer.chat_template")),
                  "n_ctx_train": int(md.get(arch + ".context_length", 0) or 0), "architecture": arch}))
"""


@dataclass(frozen=True)
class ProbeResult:
    chat_template: bool
    n_ctx_train: int
    architecture: str


_CACHE: dict[tuple[str, int, int], ProbeResult] = {}


def probe_gguf(path: Path, *, timeout: float = 120.0, python: str | None = None) -> ProbeResult:
    """Load ``path`` in a child process; raise ``ModelError`` if it fails or crashes."""
    from mentor_local.models import check_gguf_header

    check_gguf_header(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _CACHE:
        return _CACHE[key]
    hint = "pass a complete GGUF file with --model, or remove it from models/"
    try:
        proc = subprocess.run(  # noqa: S603 - our own interpreter and script, the path is an argument
            [python or sys.executable, "-c", _SCRIPT, str(path)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelError(f"loading {path.name} took longer than {timeout:.0f}s in a test load", hint=hint) from exc
    if proc.returncode != 0:
        if proc.returncode < 0:
            raise ModelError(f"llama.cpp crashed (signal {-proc.returncode}) while loading {path.name}; "
                             "the file is malformed or truncated", hint=hint)
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise ModelError(f"could not test-load {path.name} (exit {proc.returncode}: {last})", hint=hint)
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        raise ModelError(f"could not test-load {path.name}: no answer from the probe", hint=hint) from exc
    if not data.get("ok"):
        raise ModelError(f"llama.cpp cannot load {path.name}: {data.get('error', 'unknown error')}", hint=hint)
    result = ProbeResult(bool(data["chat_template"]), int(data["n_ctx_train"]), str(data.get("architecture", "")))
    _CACHE[key] = result
    return result
