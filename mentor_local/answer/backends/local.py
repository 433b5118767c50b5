"""The local model, as the app runs it: in its own process (``WorkerBackend``).

``MENTOR_MODEL_PROCESS=inprocess`` loads it in this process instead (``LlamaBackend``): for debugging
llama.cpp itself (a debugger, a profiler), never the default, since a native crash then ends the app.
"""

from __future__ import annotations

import os
from pathlib import Path

from mentor_local.answer.backends.llama import LlamaBackend
from mentor_local.answer.backends.worker import WorkerBackend
from mentor_local.settings import Settings

PROCESS_ENV = "MENTOR_MODEL_PROCESS"


def open_local_model(path: Path, *, n_ctx: int = 4096, gpu_layers: str | int | None = "auto",
                     threads: int | None = None, temperature: float = 0.2,
                     probe: bool = True) -> WorkerBackend | LlamaBackend:
    """Start the GGUF at ``path`` in its own process and return at once; the first call waits for the load.

    The file's header is checked here (a wrong path or a non-GGUF fails now, as a ``ModelError``); a
    file that crashes llama.cpp while loading is reported by the first call, also as a ``ModelError``.
    ``probe`` only matters in-process: a child process is its own probe.
    """
    from mentor_local.models import check_gguf_header

    path = Path(path)
    check_gguf_header(path)
    mode = os.environ.get(PROCESS_ENV, "child").strip().lower()
    if mode == "inprocess":
        return LlamaBackend(path, n_ctx=n_ctx, gpu_layers=gpu_layers, threads=threads, temperature=temperature,
                            probe=probe)
    return WorkerBackend(path, n_ctx=n_ctx, gpu_layers=gpu_layers, threads=threads, temperature=temperature)


def local_model_for(settings: Settings, model: str | Path | None = None, *, temperature: float = 0.2) -> WorkerBackend | LlamaBackend:
    """The model that ``settings`` (and ``--model``) name, resolved as ``Mentor`` does, through ``open_local_model``."""
    from mentor_local.models import BUNDLED_NAMES, resolve_model

    path = resolve_model(model or settings.model)
    return open_local_model(path, n_ctx=settings.n_ctx, gpu_layers=settings.gpu_layers, threads=settings.threads,
                            temperature=temperature, probe=path.name not in BUNDLED_NAMES)
