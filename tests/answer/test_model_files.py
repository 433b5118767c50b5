"""Malformed model files give a ModelError (exit 2), never a crash; the probe runs in a child process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mentor_local.errors import ModelError


def test_random_bytes_are_not_a_model(tmp_path: Path) -> None:
    from mentor_local.answer.backends.probe import probe_gguf

    bad = tmp_path / "random.gguf"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(ModelError, match="wrong magic"):
        probe_gguf(bad)


def test_wrong_magic_is_refused_before_any_native_code(tmp_path: Path) -> None:
    from mentor_local.answer.backends.llama import LlamaBackend

    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"GGML" + b"\0" * 1024)
    with pytest.raises(ModelError) as err:
        LlamaBackend(bad)
    assert err.value.exit_code == 2


def test_missing_model_file(tmp_path: Path) -> None:
    from mentor_local.answer.backends.probe import probe_gguf

    with pytest.raises(ModelError, match="does not exist"):
        probe_gguf(tmp_path / "nope.gguf")


@pytest.fixture(scope="module")
def bundled() -> Path:
    from mentor_local.models import prepare_bundled_model

    return prepare_bundled_model(preset="small")


@pytest.mark.slow
@pytest.mark.parametrize("keep", [64, 1 << 20, 100 << 20])
def test_truncated_gguf_gives_model_error(tmp_path: Path, bundled: Path, keep: int) -> None:
    from mentor_local.answer.backends.probe import probe_gguf

    bad = tmp_path / f"truncated-{keep}.gguf"
    with bundled.open("rb") as src:
        bad.write_bytes(src.read(keep))
    with pytest.raises(ModelError) as err:
        probe_gguf(bad)
    assert "malformed or truncated" in err.value.message or "cannot load" in err.value.message


@pytest.mark.slow
def test_gguf_magic_with_garbage_gives_model_error(tmp_path: Path) -> None:
    from mentor_local.answer.backends.probe import probe_gguf

    bad = tmp_path / "garbage.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(1 << 16))
    with pytest.raises(ModelError):
        probe_gguf(bad)


@pytest.mark.slow
def test_cli_bad_model_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mentor_local.cli import run

    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\xff" * 512)
    code = run(["ask", "why?", "--repo", str(tmp_path), "--model", str(bad)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "bad.gguf" in err[0]


@pytest.mark.slow
def test_bundled_model_probes_fine(bundled: Path) -> None:
    from mentor_local.answer.backends.probe import probe_gguf

    result = probe_gguf(bundled)
    assert result.chat_template is True  # the bundled Qwen2.5-Coder-Instruct carries its ChatML template
    assert result.n_ctx_train >= 4096
