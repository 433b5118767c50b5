"""`make setup` runs this: install llama-cpp-python built for this CPU without AMX, smoke-test it in a child
process, fall back to a portable build (AVX2 baseline, no AVX512, no AMX) when the child dies, and record
the build chosen in <venv>/mentor-llama-build.json (shown by `mentor doctor`).

The wheel is built once per set of flags into $XDG_CACHE_HOME/mentor-local/wheels/<key>/ (~/.cache/...)
with `pip wheel --no-binary llama-cpp-python` and installed from there: pip's own wheel cache does not
key on CMAKE_ARGS, so it is never used for this package. A second set-up on this machine reuses the wheel.

A user's CMAKE_ARGS (e.g. "-DGGML_CUDA=on") are added after this CPU's flags: that build is the one made.

Usage (run with the venv's python; the Makefile does):
  build_llama.py --install-only      build or reuse the preferred wheel and install it (before `pip install -e .`)
  build_llama.py [--model GGUF]      the same, then the smoke test, the fallback and the record
  build_llama.py --print-cpu-args [--portable]   the CMake flags for this CPU (scripts/gpu_check.sh uses them)
A build made with CMAKE_ARGS keeps them in the record; later runs without CMAKE_ARGS reuse them (--cpu: not).
Options: --retry (try a build whose smoke test died here before), --timeout S (smoke test, default 120).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentor_local.runtime_build import (  # noqa: E402
    BUILD_INFO,
    LLAMA_VERSION,
    PORTABLE_FLAGS,
    SMOKE_TIMEOUT_S,
    BuildFailed,
    SmokeResult,
    Variant,
    Wheel,
    cached_wheel,
    choose_build,
    cpu_cmake_args,
    cpu_flags,
    installed_wheel_url,
    plan_variants,
    read_record,
    smoke_model,
    smoke_test,
    variant_dir,
    write_record,
)

PIP = [sys.executable, "-m", "pip"]


def log(msg: str) -> None:
    print(msg, flush=True)


def get_wheel(variant: Variant) -> Wheel:
    """The cached wheel for these flags, else build it into the cache (several minutes on 2 cores)."""
    found = cached_wheel(variant)
    folder = variant_dir(variant)
    if found is not None:
        recorded = _build_info(folder).get("build_seconds")
        seconds = float(recorded) if isinstance(recorded, (int, float)) else None
        log(f"build_llama: reusing the cached {variant.name} wheel ({found.name}, built in "
            f"{seconds if seconds is not None else '?'} s): {folder}")
        return Wheel(found, seconds, True)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(out, ignore_errors=True)
    build_log = folder / "build.log"
    log(f"build_llama: building llama-cpp-python {LLAMA_VERSION} ({variant.summary()}); "
        f"about 10-15 minutes on 2 cores; log: {build_log}")
    env = dict(os.environ, CMAKE_ARGS=variant.cmake_env, FORCE_CMAKE="1",
               CMAKE_BUILD_PARALLEL_LEVEL=os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2)))
    # --no-cache-dir: pip's wheel cache is keyed by the sdist, not by CMAKE_ARGS, so it could hand back a
    # wheel built with other flags; this folder is the cache instead.
    cmd = [*PIP, "wheel", "--no-deps", "--no-binary", "llama-cpp-python", "--no-cache-dir", "--disable-pip-version-check",
           "-w", str(out), f"llama-cpp-python=={LLAMA_VERSION}"]
    t0 = time.monotonic()
    with build_log.open("w") as fh:
        fh.write(f"CMAKE_ARGS={variant.cmake_env}\n$ {' '.join(cmd)}\n")
        fh.flush()
        rc = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    seconds = round(time.monotonic() - t0, 1)
    wheels = sorted(out.glob("llama_cpp_python-*.whl")) if out.is_dir() else []
    if rc != 0 or not wheels:
        shutil.rmtree(out, ignore_errors=True)
        tail = build_log.read_text(errors="replace").splitlines()[-25:]
        print("\n".join(tail), file=sys.stderr)
        raise BuildFailed(f"pip could not build llama-cpp-python {LLAMA_VERSION} ({variant.name}, exit {rc}, "
                          f"{seconds:.0f} s)", hint=f"the full log is {build_log}")
    target = folder / wheels[0].name
    os.replace(wheels[0], target)
    shutil.rmtree(out, ignore_errors=True)
    (folder / BUILD_INFO).write_text(json.dumps({
        "llama_cpp_python": LLAMA_VERSION, "variant": variant.name, "cmake_args": list(variant.cmake_args),
        "build_seconds": seconds, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "wheel": target.name,
        "python": sys.version.split()[0]}, indent=2) + "\n")
    log(f"build_llama: built {target.name} in {seconds:.0f} s: {folder}")
    return Wheel(target, seconds, False)


def _build_info(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / BUILD_INFO).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def installed_from(wheel: Path) -> bool:
    """Is llama-cpp-python in this environment installed from exactly this wheel file?"""
    return installed_wheel_url() == wheel.as_uri()


def install(wheel: Wheel) -> None:
    if installed_from(wheel.path):
        log(f"build_llama: llama-cpp-python is already installed from {wheel.path.name}")
        return
    quiet = ["-q", "--disable-pip-version-check", "--no-input"]
    # Replace whatever llama-cpp-python is there (only it), then add its missing dependencies.
    for cmd in ([*PIP, "install", *quiet, "--force-reinstall", "--no-deps", str(wheel.path)],
                [*PIP, "install", *quiet, str(wheel.path)]):
        if subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode != 0:
            raise BuildFailed(f"pip could not install {wheel.path}", hint="see pip's message above")
    log(f"build_llama: installed {wheel.path.name} from {wheel.path.parent}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--install-only", action="store_true", help="build or reuse and install; no smoke test")
    p.add_argument("--model", default=None, help="the GGUF to smoke-test with (default: the smallest in models/)")
    p.add_argument("--timeout", type=float, default=SMOKE_TIMEOUT_S, help="smoke test time limit in seconds")
    p.add_argument("--cpu", action="store_true", help="ignore the CMAKE_ARGS recorded by an earlier (CUDA) build")
    p.add_argument("--retry", action="store_true", help="try builds whose smoke test died here before")
    p.add_argument("--print-cpu-args", action="store_true", help="print this CPU's CMake flags (no AMX) and exit")
    p.add_argument("--portable", action="store_true", help="with --print-cpu-args: the portable flags")
    args = p.parse_args(argv)

    flags = cpu_flags()
    if args.print_cpu_args:
        print(" ".join(cpu_cmake_args(PORTABLE_FLAGS if args.portable else flags)))
        return 0

    # A user's CMAKE_ARGS choose the build (a CUDA one); a later set-up without them keeps that choice
    # (from the record) unless --cpu says otherwise.
    user = os.environ.get("CMAKE_ARGS", "").strip()
    if not user and not args.cpu:
        recorded = (read_record() or {}).get("user_cmake_args")
        if isinstance(recorded, str) and recorded.strip():
            user = recorded.strip()
            log(f"build_llama: keeping the CMAKE_ARGS of the installed build: {user} (--cpu for the CPU build)")
    plan = plan_variants(flags, user or None)
    smoke: Callable[[], SmokeResult] | None = None
    if not args.install_only:
        model = smoke_model(args.model)
        if model is None or not model.is_file():
            why = str(model) if model else "models/ is empty and the bundled model package is not installed"
            log(f"build_llama: error: no GGUF model to smoke-test with ({why}) — pass --model PATH, "
                "or run after `pip install -e .`")
            return 2

        def run_smoke() -> SmokeResult:
            log(f"build_llama: smoke test: loading {model.name} and decoding 4 tokens in a child process")
            result = smoke_test(model, timeout=args.timeout)
            log(f"build_llama: smoke test {'passed' if result.ok else 'FAILED'}: {result.detail}")
            return result

        smoke = run_smoke
    try:
        outcome = choose_build(plan, get_wheel=get_wheel, install=install, smoke=smoke, log=log,
                               retry=args.retry)
    except BuildFailed as exc:
        write_record({"llama_cpp_python": LLAMA_VERSION, "variant": None, "error": exc.message,
                      "plan": [v.summary() for v in plan], "attempts": exc.attempts})
        log(f"build_llama: error: {exc.one_line()}")
        return 1
    path = write_record(outcome.record())
    state = "installed (smoke test after the project install)" if outcome.smoke is None else "ready"
    log(f"build_llama: llama-cpp-python {LLAMA_VERSION} {state}: {outcome.variant.summary()}; record: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
