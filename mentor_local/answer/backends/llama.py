"""In-process llama.cpp through llama-cpp-python: loaded once, reused for every question.

Prefix reuse: ``Llama.generate`` keeps the longest common token prefix of the
previous call in the KV cache and evaluates only the rest, as long as the
cache allows removing its tail.  Gemma 3 uses sliding-window attention, whose
default cache cannot be cut at an arbitrary position, so ``swa_full=True`` is
set: without it every call re-reads the whole prompt.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mentor_local.errors import ModelError
from mentor_local.protocols import Message, TokenStream

_LOG_CALLBACK: Any = None  # keeps the ctypes callback alive for as long as llama.cpp may call it


def silence_native_logs(llama_cpp: Any) -> None:
    """Route llama.cpp's log (load-time tensor dumps, warnings) to a no-op."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is None:
        _LOG_CALLBACK = llama_cpp.llama_log_callback(lambda level, text, data: None)
    llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


def physical_cores() -> int:
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
        if n:
            return int(n)
    except ImportError:
        pass
    return os.cpu_count() or 1


def resolve_gpu_layers(value: str | int | None, llama_cpp: Any) -> int:
    """``auto``: every layer (-1) when this build can offload, else 0; a number is used as given."""
    if value is None or str(value).strip().lower() == "auto":
        return -1 if bool(llama_cpp.llama_supports_gpu_offload()) else 0
    try:
        return int(value)
    except ValueError as exc:
        raise ModelError(f"gpu_layers must be 'auto' or a number, not {value!r}", hint="use --gpu-layers auto|0|N") from exc


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Native code writes to fd 2 directly; point it at /dev/null while loading."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LlamaBackend:
    """A GGUF model in this process (CPU or GPU offload)."""

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, gpu_layers: str | int | None = "auto",
                 threads: int | None = None, probe: bool = True, temperature: float = 0.2, seed: int = 7) -> None:
        from mentor_local import offline

        offline.apply()
        path = Path(model_path)
        from mentor_local.models import check_gguf_header

        check_gguf_header(path)
        if probe:
            from mentor_local.answer.backends.probe import probe_gguf

            probe_gguf(path)
        import llama_cpp

        silence_native_logs(llama_cpp)
        self.model_path = path
        self.threads = threads or physical_cores()
        self.gpu_layers = resolve_gpu_layers(gpu_layers, llama_cpp)
        self.temperature = temperature
        try:
            with _quiet_stderr():
                self.llm = llama_cpp.Llama(
                    model_path=str(path), n_ctx=n_ctx, n_threads=self.threads, n_threads_batch=self.threads,
                    n_gpu_layers=self.gpu_layers, seed=seed, swa_full=True, verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp cannot load {path.name}: {' '.join(str(exc).split())[:200]}",
                             hint="pass a complete GGUF file with --model") from exc
        self.n_ctx = int(self.llm.n_ctx())
        self.chat_template = bool(self.llm.metadata.get("tokenizer.chat_template"))

    def info(self) -> dict[str, object]:
        return {"path": str(self.model_path), "chat_template": self.chat_template, "n_ctx": self.n_ctx,
                "gpu_layers": self.gpu_layers, "threads": self.threads, "backend": "llama.cpp"}

    def wait_ready(self) -> LlamaBackend:
        """Loaded in the constructor: ready at once."""
        return self

    def close(self) -> None:
        """Nothing to stop: the model is freed with this object."""

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _fit(self, prompt_tokens: int, max_tokens: int) -> int:
        # Last guard: never ask llama.cpp for more than the window holds.
        return max(0, min(max_tokens, self.n_ctx - prompt_tokens - 2))

    def _sampling(self) -> dict[str, Any]:  # llama_cpp keyword arguments
        return {"temperature": self.temperature, "top_p": 0.9, "top_k": 40, "repeat_penalty": 1.05}

    def prime(self, messages: Sequence[Message], cache_dir: str | None = None) -> bool:
        """Read ``messages`` into the model's cache so the next prompt that opens with them reads only the
        rest. With ``cache_dir``, a state saved there by an earlier process is loaded instead (``True``),
        else the state read now is saved for the next one (``False``)."""
        import llama_cpp

        from mentor_local.answer.backends import prefix_cache

        path = None
        if cache_dir:
            try:
                path = prefix_cache.cache_file(Path(cache_dir), model_path=self.model_path, n_ctx=self.n_ctx,
                                               gpu_layers=self.gpu_layers, messages=messages,
                                               native_version=str(getattr(llama_cpp, "__version__", "")))
            except OSError:
                path = None
            if path is not None and prefix_cache.load(self.llm, path):
                return True
        for _ in self.chat(messages, max_tokens=1):
            pass
        if path is not None:
            prefix_cache.save(self.llm, path)
        return False

    def chat(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> TokenStream:
        """Stream through the model's own chat template (GGUF metadata)."""
        joined = "\n".join(m["content"] for m in messages)
        n_prompt = self.count_tokens(joined) + 8 * len(messages)
        budget = self._fit(n_prompt, max_tokens)
        if budget <= 0:
            return
        stream = self.llm.create_chat_completion(messages=list(messages), max_tokens=budget,  # type: ignore[arg-type]
                                                 stop=list(stop), stream=True, **self._sampling())
        try:
            for chunk in stream:
                delta = chunk["choices"][0].get("delta", {})  # type: ignore[union-attr,index]
                text = delta.get("content") if isinstance(delta, dict) else None
                if text:
                    yield str(text)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
