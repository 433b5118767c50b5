"""The persona, read once, kept on disk: a one-shot ``mentor ask`` does not pay for it again.

Every question's prompt opens with the same system message (persona, six sections, rules, the repo's
profile). Reading it costs a few seconds on a laptop CPU. ``Mentor.warm`` reads it once; llama.cpp can
copy the context's state (its KV cache) out, and here that state is written to a file, with the tokens
it holds. A later process with the same model, window, offload, llama.cpp build and system message loads
the file instead (tens of milliseconds) and llama-cpp-python's own prefix match then reads only the
question.

A file is whole or ignored: it is written to a temporary name and renamed, and it ends with a SHA-256
of everything before it, so a killed write, a full disk or a damaged file means the persona is read
again, never a wrong cache. The folder keeps the newest ``KEEP`` files.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mentor_local.protocols import Message

MAGIC = b"MENTOR-KV1\n"
KEEP = 8
_HEAD = struct.Struct("<QQ")  # tokens held, bytes of state


def cache_file(folder: Path, *, model_path: Path, n_ctx: int, gpu_layers: int, messages: Sequence[Message],
               native_version: str) -> Path:
    """The file for this model file (path, size, modification time), window, offload, build and prompt."""
    st = model_path.stat()
    key = json.dumps({"model": str(model_path.resolve()), "size": st.st_size, "mtime": st.st_mtime_ns,
                      "n_ctx": n_ctx, "gpu_layers": gpu_layers, "llama_cpp": native_version,
                      "messages": [dict(m) for m in messages]}, sort_keys=True)
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.kv"


def save(llm: Any, path: Path) -> bool:
    """Write ``llm``'s evaluated tokens and state to ``path`` (whole or not at all); ``False`` if it could not."""
    import llama_cpp

    n = int(llm.n_tokens)
    if n <= 0:
        return False
    ctx = llm._ctx.ctx
    size = int(llama_cpp.llama_state_get_size(ctx))
    buf = (ctypes.c_uint8 * size)()
    used = int(llama_cpp.llama_state_get_data(ctx, buf, size))
    if used <= 0 or used > size:
        return False
    data = encode([int(t) for t in llm.input_ids[:n]], bytes(memoryview(buf)[:used]))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:  # a full disk or a read-only home: the cache is an optimisation, the answer goes on
        _forget(tmp)
        return False
    _prune(path.parent)
    return True


def encode(ids: Sequence[int], state: bytes) -> bytes:
    """A file's bytes: magic, token count, state size, the tokens, the state, then their SHA-256."""
    body = MAGIC + _HEAD.pack(len(ids), len(state)) + struct.pack(f"<{len(ids)}i", *ids) + state
    return body + hashlib.sha256(body).digest()


def read(path: Path) -> tuple[list[int], bytes] | None:
    """The tokens and state in ``path``, or ``None`` when it is missing, cut short or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    body, digest = data[:-32], data[-32:]
    if len(body) < len(MAGIC) + _HEAD.size or not body.startswith(MAGIC) or hashlib.sha256(body).digest() != digest:
        return None
    n, used = _HEAD.unpack_from(body, len(MAGIC))
    start = len(MAGIC) + _HEAD.size
    if len(body) != start + 4 * n + used:
        return None
    ids = list(struct.unpack_from(f"<{n}i", body, start))
    return ids, body[start + 4 * n:]


def load(llm: Any, path: Path) -> bool:
    """Put the state in ``path`` into ``llm``; ``False`` (and the file removed) when it cannot be used."""
    import llama_cpp

    got = read(path)
    if got is None:
        _forget(path)
        return False
    ids, state = got
    if len(ids) >= int(llm.n_ctx()):
        _forget(path)
        return False
    buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if int(llama_cpp.llama_state_set_data(llm._ctx.ctx, buf, len(state))) != len(state):
        llm.reset()  # nothing of it is trusted: the next prompt is read whole
        llm._ctx.kv_cache_clear()
        _forget(path)
        return False
    llm.input_ids[: len(ids)] = ids
    llm.n_tokens = len(ids)
    llm._requires_eval = True  # the logits are not live: the next prompt's suffix is evaluated first
    try:
        os.utime(path)  # newest use: pruning keeps it
    except OSError:
        pass
    return True


def _forget(path: Path) -> None:
    """Remove ``path`` if it can be removed; a folder that refuses is left as it is."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _prune(folder: Path, keep: int = KEEP) -> None:
    try:
        files = sorted(folder.glob("*.kv"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in files[keep:]:
        _forget(old)
