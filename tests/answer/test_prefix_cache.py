"""The persona's state on disk: whole or ignored, and a loaded state answers exactly as a freshly read one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mentor_local.answer.backends import prefix_cache


def test_a_file_reads_back_what_was_written(tmp_path: Path) -> None:
    path = tmp_path / "a.kv"
    path.write_bytes(prefix_cache.encode([1, 2, 151643], b"\x00state\xff" * 10))
    assert prefix_cache.read(path) == ([1, 2, 151643], b"\x00state\xff" * 10)


@pytest.mark.parametrize("damage", ["cut", "flip", "magic", "empty", "missing"])
def test_a_damaged_or_missing_file_is_not_used(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "a.kv"
    data = bytearray(prefix_cache.encode([5, 6, 7], b"kv" * 100))
    if damage == "cut":  # a write killed halfway (without the rename it could not happen; with a copy it can)
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[40] ^= 0x01
    elif damage == "magic":
        data[:3] = b"XYZ"
    elif damage == "empty":
        data = bytearray()
    if damage != "missing":
        path.write_bytes(bytes(data))
    assert prefix_cache.read(path) is None


def test_the_key_changes_with_the_prompt_the_window_and_the_model_file(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 100)
    msgs = [{"role": "system", "content": "persona"}, {"role": "user", "content": "Hi"}]

    def key(**kw: Any) -> Path:
        args: dict[str, Any] = {"model_path": model, "n_ctx": 4096, "gpu_layers": 0, "messages": msgs,
                                "native_version": "0.3.36"}
        args.update(kw)
        return prefix_cache.cache_file(tmp_path, **args)

    base = key()
    assert key() == base
    assert key(messages=[{"role": "system", "content": "persona 2"}, msgs[1]]) != base
    assert key(n_ctx=2048) != base
    assert key(gpu_layers=99) != base
    assert key(native_version="0.3.37") != base
    model.write_bytes(b"GGUF" + b"\1" * 101)  # a replaced model file
    assert key() != base


def test_the_folder_keeps_the_newest_files(tmp_path: Path) -> None:
    for i in range(prefix_cache.KEEP + 3):
        f = tmp_path / f"{i}.kv"
        f.write_bytes(b"x")
        os.utime(f, (1000 + i, 1000 + i))
    prefix_cache._prune(tmp_path)
    left = sorted(int(p.stem) for p in tmp_path.glob("*.kv"))
    assert left == list(range(3, prefix_cache.KEEP + 3))


@pytest.mark.slow
def test_a_second_process_loads_the_persona_and_answers_the_same(small_gguf: Path, tmp_path: Path) -> None:
    from mentor_local.answer.backends.llama import LlamaBackend

    persona = [{"role": "system", "content": "You are a terse Python mentor. Answer in one short sentence. " * 8},
               {"role": "user", "content": "Hi"}]
    question = [persona[0], {"role": "user", "content": "What does a context manager's __exit__ do?"}]
    cache = tmp_path / "prompt-cache"

    def answer(backend: LlamaBackend) -> str:
        return "".join(backend.chat(question, max_tokens=12))

    first = LlamaBackend(small_gguf, n_ctx=1024, gpu_layers="0", threads=1, probe=False, temperature=0.0)
    assert first.prime(persona, str(cache)) is False  # nothing saved yet: read now, then saved
    [saved] = list(cache.glob("*.kv"))
    held = first.llm.n_tokens
    expected = answer(first)
    del first

    second = LlamaBackend(small_gguf, n_ctx=1024, gpu_layers="0", threads=1, probe=False, temperature=0.0)
    assert second.prime(persona, str(cache)) is True
    assert second.llm.n_tokens == held > 20
    assert answer(second) == expected  # the same tokens as a process that read the persona itself

    saved.write_bytes(saved.read_bytes()[:-100])  # damaged: read again, and saved whole again
    third = LlamaBackend(small_gguf, n_ctx=1024, gpu_layers="0", threads=1, probe=False, temperature=0.0)
    assert third.prime(persona, str(cache)) is False
    assert prefix_cache.read(saved) is not None
    assert answer(third) == expected

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")  # a home that cannot take the cache
    assert third.prime(persona, str(blocked)) is False
    assert answer(third) == expected


def test_a_cache_folder_that_cannot_be_used_is_passed_over(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    path = blocked / "x.kv"
    assert prefix_cache.load(object(), path) is False  # nothing to load, and no error for the caller
    prefix_cache._prune(blocked)
    assert blocked.read_text().startswith("a file")
