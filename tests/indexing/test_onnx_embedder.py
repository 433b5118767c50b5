"""The int8 ONNX embedder (the default on a CPU): close to fp32, chosen per index, prepared once, repaired."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mentor_local.embedding import FP32_ID, INT8_ID, cuda_possible
from mentor_local.errors import ConfigError, IndexMismatchError
from mentor_local.index import build_index, open_index
from mentor_local.settings import Settings, load_settings
from tests.conftest import make_repo
from tests.security.fakes import HashingEmbedder

TEXTS = [
    "app/auth.py app.auth.hash_password def hash_password(raw: str) -> str:\n    return argon2.hash(raw)",
    "def list_users(db: Session) -> list[User]:\n    return db.execute(select(User)).scalars().all()",
    "# Settings\n\nRead DATABASE_URL from the environment; never commit it.",
    "async def fetch_all(urls):\n    async with httpx.AsyncClient(timeout=5) as c:\n"
    "        return await asyncio.gather(*(c.get(u) for u in urls))",
    "x = 1",
    "class Invoice(Base):\n    __tablename__ = 'invoices'\n    id = mapped_column(Integer, primary_key=True)\n" * 12,
]
QUERIES = ["where is the password hashed", "load all users from the database", "fetch several URLs concurrently"]


@pytest.fixture(scope="module")
def both() -> tuple[Any, Any]:
    from mentor_local.wiring import make_embedder

    return make_embedder(Settings(embedder="int8")), make_embedder(Settings(embedder="fp32", device="cpu"))


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_int8_vectors_stay_close_to_fp32_and_rank_the_same(both: tuple[Any, Any]) -> None:
    int8, fp32 = both
    assert (int8.model_id, fp32.model_id) == (INT8_ID, FP32_ID)
    a, b = int8.embed(TEXTS), fp32.embed(TEXTS)
    assert len(a) == len(TEXTS) and all(len(v) == 384 for v in a)
    assert all(abs(_cos(v, v) - 1.0) < 1e-4 for v in a)  # unit length, like sentence-transformers' output
    assert min(_cos(x, y) for x, y in zip(a, b, strict=True)) >= 0.98
    # batch composition does not change a vector (padding is masked out)
    alone = int8.embed([TEXTS[4]])[0]
    assert _cos(alone, a[4]) > 0.9999
    for q in QUERIES:
        qa, qb = int8.embed([q])[0], fp32.embed([q])[0]
        best_a = max(range(len(TEXTS)), key=lambda i: _cos(qa, a[i]))
        best_b = max(range(len(TEXTS)), key=lambda i: _cos(qb, b[i]))
        assert best_a == best_b
    assert int8.embed([]) == []


def test_the_int8_path_needs_neither_torch_nor_sentence_transformers() -> None:
    code = ("import sys\nfrom mentor_local.wiring import make_embedder\nfrom mentor_local.settings import Settings\n"
            "e = make_embedder(Settings(embedder='int8'))\nassert len(e.embed(['q'])[0]) == 384\n"
            "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_a_new_index_records_its_embedder_and_is_searched_with_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    fake = HashingEmbedder()
    build_index(repo, tmp_path / "i8", settings=Settings(home=tmp_path / "h"), embedder=fake)
    build_index(repo, tmp_path / "f32", settings=Settings(home=tmp_path / "h", embedder="fp32"), embedder=fake)
    expected_default = FP32_ID if cuda_possible() else INT8_ID
    with open_index(repo, tmp_path / "i8", Settings(), embedder=fake) as ix:
        assert ix.embedder_id == expected_default
        assert ix.catalog.get_meta("embedder") == expected_default
    # auto keeps the embedder that built the index, so an fp32 index is searched with fp32 vectors
    with open_index(repo, tmp_path / "f32", Settings(), embedder=fake) as ix:
        assert ix.embedder_id == FP32_ID
    # naming another embedder is refused with the fix; the index itself is untouched
    with pytest.raises(IndexMismatchError) as err:
        open_index(repo, tmp_path / "f32", Settings(embedder="int8"), embedder=fake)
    assert "--rebuild" in err.value.one_line() and INT8_ID in str(err.value)
    with pytest.raises(IndexMismatchError):
        build_index(repo, tmp_path / "f32", settings=Settings(home=tmp_path / "h", embedder="int8"), embedder=fake)
    report = build_index(repo, tmp_path / "f32", settings=Settings(home=tmp_path / "h", embedder="int8"),
                         embedder=fake, rebuild=True)
    assert report.chunks_total > 0
    with open_index(repo, tmp_path / "f32", Settings(), embedder=fake) as ix:
        assert ix.embedder_id == INT8_ID


def test_the_embedder_setting_is_checked() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(None, environ={"MENTOR_EMBEDDER": "fp16"})
    assert "int8" in err.value.one_line()
    assert load_settings(None, environ={"MENTOR_EMBEDDER": "fp32"}).embedder == "fp32"


def test_prepared_once_and_a_damaged_file_is_exported_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mentor_local import wiring
    from mentor_local.models import int8_embedder_path, prepare_int8_embedder

    ready, _ = prepare_int8_embedder()  # make setup did this: a stat now
    models = tmp_path / "models"
    models.mkdir()
    for p in (ready, ready.with_name(ready.name + ".stamp")):
        shutil.copy2(p, models / p.name)
    monkeypatch.setenv("MENTOR_MODELS_DIR", str(models))
    assert prepare_int8_embedder() == (int8_embedder_path(), False)
    int8_embedder_path().write_bytes(b"\0" * 4096)  # damaged on disk, stamp still current
    monkeypatch.setattr(wiring, "_EMBEDDERS", {})
    emb = wiring.make_embedder(Settings(embedder="int8"))
    assert len(emb.embed(["still works"])[0]) == 384
    assert int8_embedder_path().stat().st_size > 1_000_000
    # a recipe or source change (the stamp) makes a fresh export instead of a stale file
    stamp = int8_embedder_path().with_name(int8_embedder_path().name + ".stamp")
    stamp.write_text("recipe 0; source 1 1\n")
    assert prepare_int8_embedder()[1] is True
    assert not list(models.glob(".onnx-*"))  # the export's scratch folder is gone
