"""The llama.cpp build this machine runs: which flags, a smoke test in a child process, the record.

``make setup`` (``scripts/build_llama.py``) builds llama-cpp-python with this CPU's own instruction sets
except AMX (llama.cpp's AMX kernels die with SIGILL on Linux: worker threads lack the tile permission),
decodes a few tokens in a child process, falls back to a portable build (AVX2 baseline, no AVX512, no AMX)
when that child dies, and records the build it chose beside the venv. ``mentor doctor`` runs the same
smoke test and shows the record.

Standard library only: ``scripts/build_llama.py`` imports this before the project's dependencies exist.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mentor_local.errors import MentorError

LLAMA_VERSION = "0.3.36"
RECORD_NAME = "mentor-llama-build.json"
FAILED_MARKER = "SMOKE_FAILED"
BUILD_INFO = "build.json"
SMOKE_TIMEOUT_S = 120.0

# CMake option -> the /proc/cpuinfo flags it needs (ggml-cpu/CMakeLists.txt: GGML_AVX512 adds
# -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw; the AVX512 extensions need that base too).
_AVX512_BASE = ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")
CPU_OPTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("GGML_SSE42", ("sse4_2",)),
    ("GGML_AVX", ("avx",)),
    ("GGML_AVX2", ("avx2",)),
    ("GGML_FMA", ("fma",)),
    ("GGML_F16C", ("f16c",)),
    ("GGML_BMI2", ("bmi2",)),
    ("GGML_AVX_VNNI", ("avx_vnni",)),
    ("GGML_AVX512", _AVX512_BASE),
    ("GGML_AVX512_VBMI", (*_AVX512_BASE, "avx512vbmi")),
    ("GGML_AVX512_VNNI", (*_AVX512_BASE, "avx512_vnni")),
    ("GGML_AVX512_BF16", (*_AVX512_BASE, "avx512_bf16")),
)
# Never on: the AMX kernels are what crash (SIGILL on the first decode: worker threads lack the AMX tile permission).
AMX_OFF = ("-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF")
# The portable fallback: x86-64-v3 as llama.cpp's own "haswell" CPU variant defines it.
PORTABLE_FLAGS = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"})


class BuildFailed(MentorError):
    """No build of llama-cpp-python passes the smoke test on this machine (or one would not compile)."""

    def __init__(self, message: str, *, hint: str = "", attempts: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.attempts = attempts or []


# --- which flags -------------------------------------------------------------------------------------------


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The instruction-set flags of the first CPU in ``/proc/cpuinfo`` (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_cmake_args(flags: Iterable[str]) -> list[str]:
    """``-DGGML_NATIVE=OFF``, every x86 option set ON or OFF from ``flags`` explicitly, and AMX off."""
    have = set(flags)
    args = ["-DGGML_NATIVE=OFF"]
    for option, needs in CPU_OPTIONS:
        args.append(f"-D{option}={'ON' if all(f in have for f in needs) else 'OFF'}")
    return [*args, *AMX_OFF]


def _cmake_value(args: Sequence[str], option: str) -> str | None:
    """The value the last ``-D<option>[:TYPE]=value`` in ``args`` sets (CMake: the last one wins)."""
    found: str | None = None
    for arg in args:
        if not arg.startswith("-D"):
            continue
        name, sep, value = arg[2:].partition("=")
        if sep and name.split(":")[0].upper() == option.upper():
            found = value
    return found


def _is_on(value: str | None) -> bool:
    return value is not None and value.strip().upper() in ("ON", "1", "TRUE", "YES", "Y")


@dataclass(frozen=True)
class Variant:
    name: str
    cmake_args: tuple[str, ...]
    user_cmake_args: str = field(default="", compare=False)  # the user's CMAKE_ARGS it was planned with

    @property
    def key(self) -> str:
        """The wheel-cache folder: one per llama-cpp-python version, flags, Python and machine."""
        ident = json.dumps({"llama_cpp_python": LLAMA_VERSION, "cmake_args": list(self.cmake_args),
                            "python": f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}",
                            "machine": platform.machine()}, sort_keys=True)
        return f"{LLAMA_VERSION}-{self.name}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}"

    @property
    def cmake_env(self) -> str:
        return " ".join(shlex.quote(a) for a in self.cmake_args)

    def summary(self) -> str:
        """``native-noamx: SSE42 AVX AVX2 ... AVX512_BF16, no AMX`` — the options that are on, then any others."""
        if _is_on(_cmake_value(self.cmake_args, "GGML_NATIVE")):
            on = ["-march=native"]
        else:
            on = [o.removeprefix("GGML_") for o, _ in CPU_OPTIONS if _is_on(_cmake_value(self.cmake_args, o))]
        amx = any(_is_on(_cmake_value(self.cmake_args, f"GGML_AMX_{k}")) for k in ("TILE", "INT8", "BF16"))
        known = {"GGML_NATIVE", "GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16", *(o for o, _ in CPU_OPTIONS)}
        extra = [a for a in self.cmake_args if _option(a) not in known]
        text = f"{self.name}: {' '.join(on) or 'no SIMD'}, {'AMX on' if amx else 'no AMX'}"
        return f"{text}; {' '.join(extra)}" if extra else text


def _option(arg: str) -> str:
    return arg[2:].partition("=")[0].split(":")[0].upper() if arg.startswith("-D") else arg


def plan_variants(flags: Iterable[str], user_cmake_args: str | None = None) -> list[Variant]:
    """The builds to try, best first: this CPU's flags without AMX, then the portable AVX2 build.

    A user's ``CMAKE_ARGS`` (``-DGGML_CUDA=on`` for a GPU) go after ours, so they win where they overlap
    and keep the CPU part free of AMX otherwise; the variant is then named ``cuda`` (or ``custom``).
    """
    user = shlex.split(user_cmake_args or "")
    if user:
        cuda = _is_on(_cmake_value(user, "GGML_CUDA"))
        base = "cuda" if cuda else "custom"
        # With GGML_NATIVE=OFF ggml would build for a dozen GPU generations; keep the GPU of this machine, as
        # a native build did, unless the user names the architectures.
        if cuda and _cmake_value(user, "CMAKE_CUDA_ARCHITECTURES") is None:
            user = ["-DCMAKE_CUDA_ARCHITECTURES=native", *user]
        raw = user_cmake_args or ""
        plan = [Variant(base, tuple(cpu_cmake_args(flags) + user), raw),
                Variant(f"{base}-portable", tuple(cpu_cmake_args(PORTABLE_FLAGS) + user), raw)]
    else:
        plan = [Variant("native-noamx", tuple(cpu_cmake_args(flags))),
                Variant("portable", tuple(cpu_cmake_args(PORTABLE_FLAGS)))]
    if plan[0].cmake_args == plan[1].cmake_args:  # this CPU is exactly the baseline: one build to try
        return [plan[1]]
    return plan


# --- the wheel cache ---------------------------------------------------------------------------------------


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/mentor-local/wheels`` (``~/.cache/...`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "mentor-local" / "wheels"


def variant_dir(variant: Variant, root: Path | None = None) -> Path:
    return (root or cache_root()) / variant.key


def cached_wheel(variant: Variant, root: Path | None = None) -> Path | None:
    """The wheel built earlier for exactly these flags, if any."""
    folder = variant_dir(variant, root)
    found = sorted(folder.glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl")) if folder.is_dir() else []
    return found[0] if found else None


def failed_before(variant: Variant, root: Path | None = None) -> str | None:
    """Why this build's smoke test died on this machine before (recorded in its cache folder), if it did."""
    marker = variant_dir(variant, root) / FAILED_MARKER
    try:
        return marker.read_text().strip() or "died"
    except OSError:
        return None


def mark_failed(variant: Variant, detail: str, root: Path | None = None) -> None:
    folder = variant_dir(variant, root)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FAILED_MARKER).write_text(detail + "\n")


def clear_failed(variant: Variant, root: Path | None = None) -> None:
    (variant_dir(variant, root) / FAILED_MARKER).unlink(missing_ok=True)


# --- the smoke test ----------------------------------------------------------------------------------------

# Runs in the child: load the GGUF with a small context, prefill a batch of about 20 tokens on >= 2 threads
# (the AMX crash is in worker threads) and decode a few. The last stdout line is the JSON the parent reads.
SMOKE_CODE = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash here is expected news, not a core file in the repo
model, threads, max_tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
import llama_cpp
gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
llm = llama_cpp.Llama(model_path=model, n_ctx=256, n_batch=128, n_threads=threads, n_threads_batch=threads,
                      n_gpu_layers=gpu_layers, verbose=False)
prompt = "def total(items):\n    # sum the price of every item in the cart\n    result = 0\n"
out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0)
print(json.dumps({"tokens": out["usage"]["completion_tokens"], "text": out["choices"][0]["text"],
                  "gpu_layers": gpu_layers, "version": llama_cpp.__version__,
                  "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
                  "seconds": round(time.perf_counter() - t0, 2)}))
"""


@dataclass
class SmokeResult:
    ok: bool
    detail: str
    seconds: float
    returncode: int | None = None
    signal: str | None = None
    tokens: int = 0
    model: str = ""
    system_info: str = ""
    stderr_tail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_SIGNAL_MEANING = {
    "SIGILL": "illegal instruction: the build uses an instruction this CPU or kernel does not allow",
    "SIGSEGV": "segmentation fault",
    "SIGBUS": "bus error",
    "SIGKILL": "killed, often by the kernel's out-of-memory killer",
    "SIGABRT": "aborted",
    "SIGFPE": "arithmetic fault",
}


def signal_name(returncode: int) -> str:
    """``SIGILL`` for a child ended by signal 4 (a negative exit status), ``signal N`` for one Python cannot name."""
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def describe_exit(returncode: int) -> tuple[str, str | None]:
    """``(words, signal name)`` for a child's exit status; a negative status is the signal that ended it."""
    if returncode < 0:
        name = signal_name(returncode)
        meaning = _SIGNAL_MEANING.get(name)
        return (f"died with {name} ({meaning})" if meaning else f"died with {name}"), name
    return f"exited with status {returncode}", None


def default_threads() -> int:
    return max(2, min(4, os.cpu_count() or 2))


def smoke_test(model: Path, *, python: str | None = None, timeout: float = SMOKE_TIMEOUT_S,
               threads: int | None = None, max_tokens: int = 4, code: str = SMOKE_CODE,
               env: dict[str, str] | None = None) -> SmokeResult:
    """Load ``model`` and decode ``max_tokens`` tokens in a child process; never raises for a dying child."""
    argv = [python or sys.executable, "-c", code, str(model), str(threads or default_threads()), str(max_tokens)]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,  # noqa: S603
                              stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed the child
        tail = _tail(exc.stderr)
        return SmokeResult(False, f"did not finish within {timeout:.0f} s (killed)", round(time.monotonic() - t0, 2),
                           model=str(model), stderr_tail=tail)
    except OSError as exc:
        return SmokeResult(False, f"could not start {argv[0]}: {exc}", round(time.monotonic() - t0, 2),
                           model=str(model))
    seconds = round(time.monotonic() - t0, 2)
    tail = _tail(proc.stderr)
    if proc.returncode != 0:
        words, sig = describe_exit(proc.returncode)
        last = tail.splitlines()[-1].strip() if tail.strip() and sig is None else ""
        return SmokeResult(False, f"{words}{': ' + last if last else ''}", seconds, proc.returncode, sig,
                           model=str(model), stderr_tail=tail)
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        tokens = int(report["tokens"])
    except (IndexError, ValueError, KeyError, TypeError):
        return SmokeResult(False, "exited 0 without a report", seconds, 0, model=str(model), stderr_tail=tail)
    if tokens < 1:
        return SmokeResult(False, "decoded no tokens", seconds, 0, model=str(model), stderr_tail=tail)
    return SmokeResult(True, f"decoded {tokens} tokens in {seconds:.1f} s", seconds, 0, tokens=tokens,
                       model=str(model), system_info=str(report.get("system_info", "")))


def _tail(text: str | bytes | None, lines: int = 15) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").splitlines()[-lines:])


def smoke_model(explicit: str | Path | None = None) -> Path | None:
    """The GGUF to smoke-test with: ``explicit``, else the smallest bundled model in ``models/`` (a known
    good file, so a death is the build's fault), else the smallest ``models/*.gguf``, else the bundled one."""
    from mentor_local.paths import models_dir

    if explicit:
        return Path(explicit).expanduser()
    try:
        from mentor_local import models

        bundled: frozenset[str] = frozenset(models.BUNDLED_NAMES)
    except Exception:
        bundled = frozenset()
    root = models_dir()
    found = [p for p in root.glob("*.gguf") if p.is_file()] if root.is_dir() else []
    pool = [p for p in found if p.name in bundled] or found
    if pool:
        return min(pool, key=lambda p: (p.stat().st_size, p.name))
    try:
        from mentor_local.models import resolve_model

        return resolve_model()
    except Exception:  # no bundled model package yet (before `pip install -e .`), or it is damaged
        return None


# --- choosing the build ------------------------------------------------------------------------------------


@dataclass
class Wheel:
    path: Path
    build_seconds: float | None  # how long the build took when it was made (recorded in the cache)
    reused: bool  # found in the cache this time


@dataclass
class Outcome:
    variant: Variant
    wheel: Wheel
    smoke: SmokeResult | None
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {
            "llama_cpp_python": LLAMA_VERSION,
            "variant": self.variant.name,
            "summary": self.variant.summary(),
            "cmake_args": list(self.variant.cmake_args),
            "user_cmake_args": self.variant.user_cmake_args,
            "cache_key": self.variant.key,
            "wheel": str(self.wheel.path),
            "build_seconds": self.wheel.build_seconds,
            "reused_wheel": self.wheel.reused,
            "smoke": self.smoke.to_dict() if self.smoke else None,
            "attempts": self.attempts,
            "cpu": cpu_model(),
            "python": sys.executable,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def choose_build(plan: Sequence[Variant], *, get_wheel: Callable[[Variant], Wheel],
                 install: Callable[[Wheel], None], smoke: Callable[[], SmokeResult] | None,
                 log: Callable[[str], None], cache: Path | None = None, retry: bool = False) -> Outcome:
    """Install the first build in ``plan`` whose smoke test passes; fall back down the plan when one dies.

    ``smoke=None`` installs the first build not known to die here and tests nothing (the step before the
    project's own install). A build whose smoke test died on this machine before is skipped (``retry``
    tries it again) unless it is the last one left. Raises :class:`BuildFailed` when every build dies.
    """
    attempts: list[dict[str, Any]] = []
    failures: list[str] = []
    for i, variant in enumerate(plan):
        last = i == len(plan) - 1
        why = None if retry else failed_before(variant, cache)
        if why and not last:
            log(f"build_llama: skipping the {variant.name} build: its smoke test {why} on this machine before "
                f"(--retry tries it again)")
            attempts.append({"variant": variant.name, "skipped": f"failed before: {why}"})
            continue
        try:
            wheel = get_wheel(variant)
        except BuildFailed as exc:  # e.g. a compiler too old for one of this CPU's flags
            if last:
                raise
            failures.append(f"{variant.name}: {exc.one_line()}")
            attempts.append({"variant": variant.name, "build_failed": exc.one_line()})
            log(f"build_llama: the {variant.name} build failed ({exc.one_line()}); "
                f"falling back to the {plan[i + 1].name} build (AVX2, no AVX512, no AMX)")
            continue
        install(wheel)
        if smoke is None:
            return Outcome(variant, wheel, None, attempts)
        result = smoke()
        attempts.append({"variant": variant.name, "smoke": result.to_dict()})
        if result.ok:
            clear_failed(variant, cache)
            return Outcome(variant, wheel, result, attempts)
        mark_failed(variant, result.detail, cache)
        failures.append(f"{variant.name}: {result.detail}")
        if not last:
            log(f"build_llama: the {variant.name} llama.cpp build failed its smoke test ({result.detail}); "
                f"falling back to the {plan[i + 1].name} build (AVX2, no AVX512, no AMX)")
    for variant in plan:  # every build died: that says nothing against one of them, so try all next time
        clear_failed(variant, cache)
    raise BuildFailed(f"llama.cpp cannot run on this machine: every build failed its smoke test "
                      f"({'; '.join(failures) or 'none tried'})",
                      hint=f"each child's last output is in {record_path()}; report it with /proc/cpuinfo's "
                           "model name and flags", attempts=attempts)


# --- the record --------------------------------------------------------------------------------------------


def record_path(prefix: str | Path | None = None) -> Path:
    """``<venv>/mentor-llama-build.json``: the build this environment has."""
    return Path(prefix or sys.prefix) / RECORD_NAME


def write_record(record: dict[str, Any], prefix: str | Path | None = None) -> Path:
    path = record_path(prefix)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def read_record(prefix: str | Path | None = None) -> dict[str, Any] | None:
    try:
        data = json.loads(record_path(prefix).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def cpu_model(cpuinfo: str | None = None) -> str:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return platform.processor() or platform.machine()
    for line in cpuinfo.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == "model name":
            return value.strip()
    return platform.processor() or platform.machine()


def installed_wheel_url() -> str | None:
    """Where the installed llama-cpp-python came from (pip's direct_url.json), if it came from a file."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("llama-cpp-python")
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except (PackageNotFoundError, ValueError):
        return None
    if dist.version != LLAMA_VERSION or not isinstance(direct, dict):
        return None
    url = direct.get("url")
    return url if isinstance(url, str) else None


def doctor_check(explicit_model: str | Path | None = None, *, timeout: float = SMOKE_TIMEOUT_S) -> str:
    """``mentor doctor``: the recorded build and a fresh smoke test in a child; raises when the child dies."""
    record = read_record()
    if record and record.get("error"):
        shown = f"the last set-up found no working build ({record['error']})"
    elif record:
        secs = record.get("build_seconds")
        built = f"built in {secs:.0f} s" if isinstance(secs, (int, float)) else "build time unknown"
        shown = f"{record.get('summary') or record.get('variant')} ({built}, record {record_path()})"
        wheel = record.get("wheel")
        if isinstance(wheel, str) and installed_wheel_url() != Path(wheel).as_uri():
            shown += "; the installed llama-cpp-python is not that build (installed another way)"
    else:
        shown = f"no build record at {record_path()} (llama-cpp-python was not installed by make setup)"
    model = smoke_model(explicit_model)
    if model is None:
        raise MentorError(f"{shown}; no GGUF to smoke-test with", hint="run 'make setup'")
    result = smoke_test(model, timeout=timeout)
    if not result.ok:
        raise MentorError(f"llama.cpp smoke test with {model.name} {result.detail}; {shown}",
                          hint="run 'make setup' to rebuild (it falls back to a portable build)")
    return f"{shown}; smoke test: {result.detail} with {model.name}"
