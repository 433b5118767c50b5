"""The llama.cpp build: flags per CPU (AMX never on), the wheel cache per flags, the smoke test in a child,
the portable fallback when the child dies, the clear stop when every build dies, the record and doctor.

Nothing here compiles: the compile and pip steps are fakes; the smoke children are real processes that
kill themselves, exit non-zero or hang. One slow test runs the real smoke test against the installed build.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mentor_local import runtime_build as rb
from mentor_local.errors import MentorError

ROOT = Path(__file__).resolve().parents[2]

EPYC = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht "
        "syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid "
        "tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c "
        "rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext "
        "fsgsbase bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb "
        "avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr "
        "avx512vbmi umip pku ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq "
        "rdpid fsrm")
SAPPHIRE_RAPIDS = (EPYC.replace(" fsrm", "") + " avx_vnni avx512_fp16 amx_bf16 amx_tile amx_int8 serialize tsxldtrk")
HASWELL = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma bmi1 bmi2 avx2 movbe popcnt"
SANDY_BRIDGE = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx popcnt"


def cpuinfo(flags: str) -> str:
    return f"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: Test CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\n"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_llama_under_test", ROOT / "scripts" / "build_llama.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def value(args: tuple[str, ...] | list[str], option: str) -> str | None:
    return rb._cmake_value(list(args), option)


# --- flags -------------------------------------------------------------------------------------------------


def test_cpu_flags_parses_the_first_cpu() -> None:
    flags = rb.cpu_flags(cpuinfo(EPYC))
    assert {"avx2", "avx512f", "avx512_bf16", "fma"} <= flags and "amx_tile" not in flags
    assert rb.cpu_flags("no flags here") == frozenset()
    assert rb.cpu_model(cpuinfo(EPYC)) == "Test CPU"


def test_avx512_cpu_without_amx_gets_its_own_flags() -> None:
    args = rb.cpu_cmake_args(rb.cpu_flags(cpuinfo(EPYC)))
    assert args[0] == "-DGGML_NATIVE=OFF"
    for on in ("SSE42", "AVX", "AVX2", "FMA", "F16C", "BMI2", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"):
        assert value(args, f"GGML_{on}") == "ON", on
    assert value(args, "GGML_AVX_VNNI") == "OFF"  # this EPYC has no AVX-VNNI (the VEX one)
    for amx in ("TILE", "INT8", "BF16"):
        assert value(args, f"GGML_AMX_{amx}") == "OFF"


def test_amx_cpu_gets_everything_but_amx() -> None:
    flags = rb.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS))
    assert {"amx_tile", "amx_int8", "amx_bf16"} <= flags
    args = rb.cpu_cmake_args(flags)
    assert value(args, "GGML_NATIVE") == "OFF"  # -march=native would turn AMX on
    assert value(args, "GGML_AVX512") == "ON" and value(args, "GGML_AVX_VNNI") == "ON"
    assert [value(args, f"GGML_AMX_{k}") for k in ("TILE", "INT8", "BF16")] == ["OFF", "OFF", "OFF"]
    assert not any("AMX" in a and a.endswith("=ON") for a in args)


def test_older_cpus_get_what_they_have_and_nothing_more() -> None:
    haswell = rb.cpu_cmake_args(rb.cpu_flags(cpuinfo(HASWELL)))
    assert value(haswell, "GGML_AVX2") == "ON" and value(haswell, "GGML_AVX512") == "OFF"
    sandy = rb.cpu_cmake_args(rb.cpu_flags(cpuinfo(SANDY_BRIDGE)))
    assert value(sandy, "GGML_AVX") == "ON"
    assert [value(sandy, f"GGML_{o}") for o in ("AVX2", "FMA", "F16C", "BMI2")] == ["OFF"] * 4
    # An AVX512 extension without the AVX512 base ggml compiles with is not used.
    partial = rb.cpu_cmake_args({"avx2", "avx512f", "avx512vbmi"})
    assert value(partial, "GGML_AVX512") == "OFF" and value(partial, "GGML_AVX512_VBMI") == "OFF"


@pytest.mark.parametrize("flags", [EPYC, SAPPHIRE_RAPIDS, HASWELL, SANDY_BRIDGE, ""])
@pytest.mark.parametrize("user", [None, "", "-DGGML_CUDA=on", "-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90"])
def test_no_plan_ever_turns_amx_on(flags: str, user: str | None) -> None:
    plan = rb.plan_variants(rb.cpu_flags(cpuinfo(flags)), user)
    assert 1 <= len(plan) <= 2 and plan[-1].name.endswith("portable")
    for variant in plan:
        assert value(variant.cmake_args, "GGML_NATIVE") == "OFF"
        assert not rb._is_on(value(variant.cmake_args, "GGML_AMX_TILE"))
        assert "no AMX" in variant.summary()
    portable = plan[-1].cmake_args
    assert value(portable, "GGML_AVX2") == "ON" and value(portable, "GGML_FMA") == "ON"
    assert value(portable, "GGML_F16C") == "ON" and value(portable, "GGML_AVX512") == "OFF"


def test_plan_native_first_then_portable() -> None:
    plan = rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)))
    assert [v.name for v in plan] == ["native-noamx", "portable"]
    assert plan[0].summary().startswith("native-noamx: SSE42 AVX AVX2 FMA F16C BMI2 AVX512")
    assert plan[1].summary() == "portable: SSE42 AVX AVX2 FMA F16C BMI2, no AMX"
    # A CPU that is exactly the baseline has one build to try, not the same build twice.
    assert [v.name for v in rb.plan_variants(rb.cpu_flags(cpuinfo(HASWELL)))] == ["portable"]


def test_users_cmake_args_force_the_cuda_variant_and_win_where_they_overlap() -> None:
    plan = rb.plan_variants(rb.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS)), "-DGGML_CUDA=on")
    assert [v.name for v in plan] == ["cuda", "cuda-portable"]
    assert all(v.cmake_args[-1] == "-DGGML_CUDA=on" for v in plan)
    assert "-DGGML_CUDA=on" in plan[0].summary()
    assert all(value(v.cmake_args, "CMAKE_CUDA_ARCHITECTURES") == "native" for v in plan)  # this machine's GPU
    named = rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)), "-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90")
    assert value(named[0].cmake_args, "CMAKE_CUDA_ARCHITECTURES") == "90"
    assert sum(a.startswith("-DCMAKE_CUDA_ARCHITECTURES") for a in named[0].cmake_args) == 1
    own = rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)), "-DGGML_AVX512=OFF -DGGML_BLAS=ON")
    assert own[0].name == "custom" and value(own[0].cmake_args, "GGML_AVX512") == "OFF"


# --- the wheel cache ---------------------------------------------------------------------------------------


def test_cache_key_differs_per_flags_and_is_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    epyc = rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)))
    spr = rb.plan_variants(rb.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS)))
    cuda = rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)), "-DGGML_CUDA=on")
    keys = {v.key for v in (*epyc, *spr, *cuda)}
    assert len(keys) == 5  # the two portable builds are the same build: one key
    assert epyc[1].key == spr[1].key
    assert epyc[0].key == rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)))[0].key
    assert epyc[0].key.startswith(f"{rb.LLAMA_VERSION}-native-noamx-")
    assert rb.variant_dir(epyc[0]) == tmp_path / "xdg" / "mentor-local" / "wheels" / epyc[0].key
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert rb.cache_root() == Path.home() / ".cache" / "mentor-local" / "wheels"


_REAL_RUN = subprocess.run


def _fake_pip(calls: list[dict[str, Any]], *, fail: bool = False) -> Any:
    """subprocess.run with pip faked (no compile, no install); any other command (a smoke child) really runs."""

    def run(cmd: list[str], **kw: Any) -> Any:
        if list(cmd[1:3]) != ["-m", "pip"]:
            return _REAL_RUN(cmd, **kw)
        calls.append({"cmd": cmd, "env": kw.get("env")})
        if "wheel" in cmd and not fail:
            out = Path(cmd[cmd.index("-w") + 1])
            out.mkdir(parents=True, exist_ok=True)
            (out / f"llama_cpp_python-{rb.LLAMA_VERSION}-cp311-cp311-linux_x86_64.whl").write_bytes(b"PK fake")
        return subprocess.CompletedProcess(cmd, 1 if fail else 0)

    return run


def test_wheel_is_built_once_per_flags_with_pip_wheel_and_reused(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    script = load_script()
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(script.subprocess, "run", _fake_pip(calls))
    native, portable = rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)))

    first = script.get_wheel(native)
    assert not first.reused and first.path.parent == rb.variant_dir(native) and first.path.is_file()
    (cmd, env), = [(c["cmd"], c["env"]) for c in calls]
    assert cmd[1:4] == ["-m", "pip", "wheel"] and "--no-deps" in cmd
    assert cmd[cmd.index("--no-binary") + 1] == "llama-cpp-python"
    assert "--no-cache-dir" in cmd  # pip's own wheel cache does not key on CMAKE_ARGS
    assert cmd[-1] == f"llama-cpp-python=={rb.LLAMA_VERSION}"
    assert env["CMAKE_ARGS"] == native.cmake_env and "-DGGML_AMX_TILE=OFF" in env["CMAKE_ARGS"]
    info = json.loads((rb.variant_dir(native) / rb.BUILD_INFO).read_text())
    assert info["cmake_args"] == list(native.cmake_args) and isinstance(info["build_seconds"], float)

    again = script.get_wheel(native)  # a second set-up (or a fresh clone) on this machine
    assert again.reused and again.path == first.path and again.build_seconds == info["build_seconds"]
    assert len(calls) == 1

    other = script.get_wheel(portable)  # other flags: another folder, another build
    assert not other.reused and other.path.parent != first.path.parent and len(calls) == 2
    assert calls[1]["env"]["CMAKE_ARGS"] == portable.cmake_env
    assert not list(tmp_path.glob("mentor-local/wheels/.*tmp*"))


def test_failed_compile_leaves_no_wheel_and_says_where_the_log_is(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    script = load_script()
    monkeypatch.setattr(script.subprocess, "run", _fake_pip([], fail=True))
    native = rb.plan_variants(rb.cpu_flags(cpuinfo(EPYC)))[0]
    with pytest.raises(rb.BuildFailed) as info:
        script.get_wheel(native)
    assert info.value.one_line().endswith(f"the full log is {rb.variant_dir(native) / 'build.log'}")
    assert rb.cached_wheel(native) is None


def test_install_replaces_only_llama_and_skips_the_wheel_already_installed(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    script = load_script()
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(script.subprocess, "run", _fake_pip(calls))
    wheel = rb.Wheel(tmp_path / f"llama_cpp_python-{rb.LLAMA_VERSION}-cp311-cp311-linux_x86_64.whl", 1.0, True)
    monkeypatch.setattr(script, "installed_from", lambda path: False)
    script.install(wheel)
    assert [c["cmd"][3:] for c in calls] == [
        ["install", "-q", "--disable-pip-version-check", "--no-input", "--force-reinstall", "--no-deps",
         str(wheel.path)],
        ["install", "-q", "--disable-pip-version-check", "--no-input", str(wheel.path)]]
    monkeypatch.setattr(script, "installed_from", lambda path: True)
    script.install(wheel)
    assert len(calls) == 2


# --- the smoke test in a child -----------------------------------------------------------------------------

NO_CORE = "import resource; resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
CHILD_SIGILL = NO_CORE + "import os, signal; os.kill(os.getpid(), signal.SIGILL)\n"
CHILD_SIGSEGV = NO_CORE + "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)\n"
CHILD_EXIT = "import sys; sys.stderr.write('llama_model_load: error loading model\\n'); sys.exit(3)\n"
CHILD_HANG = "import time; time.sleep(60)\n"
CHILD_OK = "import json; print('noise'); print(json.dumps({'tokens': 4, 'system_info': 'AVX2 = 1'}))\n"
CHILD_SILENT = "print('no json')\n"


def smoke(code: str, tmp_path: Path, timeout: float = 30.0) -> rb.SmokeResult:
    return rb.smoke_test(tmp_path / "m.gguf", code=code, timeout=timeout)


def test_smoke_child_killed_by_sigill_is_a_failure_named_by_its_signal(tmp_path: Path) -> None:
    result = smoke(CHILD_SIGILL, tmp_path)
    assert not result.ok and result.signal == "SIGILL" and result.returncode == -4
    assert result.detail.startswith("died with SIGILL (illegal instruction")
    seg = smoke(CHILD_SIGSEGV, tmp_path)
    assert not seg.ok and seg.signal == "SIGSEGV" and "segmentation fault" in seg.detail
    assert not list(tmp_path.glob("core*")) and not list(Path.cwd().glob("core.*"))


def test_smoke_child_exiting_non_zero_fails_with_its_last_words(tmp_path: Path) -> None:
    result = smoke(CHILD_EXIT, tmp_path)
    assert not result.ok and result.returncode == 3 and result.signal is None
    assert result.detail == "exited with status 3: llama_model_load: error loading model"
    silent = smoke(CHILD_SILENT, tmp_path)
    assert not silent.ok and silent.detail == "exited 0 without a report"


def test_smoke_child_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    result = smoke(CHILD_HANG, tmp_path, timeout=1.0)
    assert not result.ok and result.detail == "did not finish within 1 s (killed)" and result.seconds < 10


def test_smoke_child_that_decodes_passes(tmp_path: Path) -> None:
    result = smoke(CHILD_OK, tmp_path)
    assert result.ok and result.tokens == 4 and result.system_info == "AVX2 = 1"
    assert result.detail.startswith("decoded 4 tokens in ")


# --- choosing the build: fallback and stop ----------------------------------------------------------------


class Fakes:
    """The compile and install steps as fakes; the smoke test runs a real child chosen per variant."""

    def __init__(self, tmp_path: Path, children: dict[str, str], build_fails: frozenset[str] = frozenset()) -> None:
        self.tmp_path, self.children, self.build_fails = tmp_path, children, build_fails
        self.built: list[str] = []
        self.installed: list[str] = []
        self.log: list[str] = []

    def get_wheel(self, variant: rb.Variant) -> rb.Wheel:
        if variant.name in self.build_fails:
            raise rb.BuildFailed(f"pip could not build llama-cpp-python ({variant.name}, exit 1)")
        self.built.append(variant.name)
        return rb.Wheel(self.tmp_path / f"{variant.name}.whl", 42.0, False)

    def install(self, wheel: rb.Wheel) -> None:
        self.installed.append(wheel.path.stem)

    def smoke(self) -> rb.SmokeResult:
        return smoke(self.children[self.installed[-1]], self.tmp_path, timeout=1.0)

    def choose(self, plan: list[rb.Variant], *, smoke: bool = True, retry: bool = False) -> rb.Outcome:
        return rb.choose_build(plan, get_wheel=self.get_wheel, install=self.install,
                               smoke=self.smoke if smoke else None, log=self.log.append,
                               cache=self.tmp_path / "cache", retry=retry)


PLAN = rb.plan_variants(rb.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS)))


@pytest.mark.parametrize(("child", "words"), [(CHILD_SIGILL, "died with SIGILL"), (CHILD_SIGSEGV, "died with SIGSEGV"),
                                              (CHILD_EXIT, "exited with status 3"),
                                              (CHILD_HANG, "did not finish within 1 s")])
def test_a_native_build_that_dies_falls_back_to_portable(tmp_path: Path, child: str, words: str) -> None:
    fakes = Fakes(tmp_path, {"native-noamx": child, "portable": CHILD_OK})
    outcome = fakes.choose(PLAN)
    assert outcome.variant.name == "portable" and outcome.smoke is not None and outcome.smoke.ok
    assert fakes.built == ["native-noamx", "portable"] and fakes.installed == ["native-noamx", "portable"]
    (line,) = fakes.log  # one line says what happened and what comes next
    assert words in line and "falling back to the portable build" in line and "\n" not in line
    record = outcome.record()
    assert record["variant"] == "portable" and record["cmake_args"] == list(PLAN[1].cmake_args)
    assert record["build_seconds"] == 42.0 and record["smoke"]["ok"] is True
    assert [a["variant"] for a in record["attempts"]] == ["native-noamx", "portable"]
    assert words in record["attempts"][0]["smoke"]["detail"]
    # The next set-up on this machine goes straight to the build that runs.
    again = Fakes(tmp_path, {"native-noamx": CHILD_OK, "portable": CHILD_OK})
    assert again.choose(PLAN, smoke=False).variant.name == "portable" and again.built == ["portable"]
    assert "skipping the native-noamx build" in again.log[0] and words in again.log[0]
    # --retry tries the native build again, and a pass clears the mark.
    retried = Fakes(tmp_path, {"native-noamx": CHILD_OK, "portable": CHILD_OK})
    assert retried.choose(PLAN, retry=True).variant.name == "native-noamx"
    assert rb.failed_before(PLAN[0], tmp_path / "cache") is None


def test_when_every_build_dies_it_stops_with_one_clear_line(tmp_path: Path) -> None:
    fakes = Fakes(tmp_path, {"native-noamx": CHILD_SIGILL, "portable": CHILD_EXIT})
    with pytest.raises(rb.BuildFailed) as info:
        fakes.choose(PLAN)
    message = info.value.one_line()
    assert message.startswith("llama.cpp cannot run on this machine: every build failed its smoke test")
    assert "native-noamx: died with SIGILL" in message and "portable: exited with status 3" in message
    assert "\n" not in message and fakes.built == ["native-noamx", "portable"]
    # When every build died, no build is marked against (the cause is elsewhere, e.g. the model file): the
    # next set-up tries them all again, best first.
    again = Fakes(tmp_path, {"native-noamx": CHILD_OK, "portable": CHILD_OK})
    assert again.choose(PLAN).variant.name == "native-noamx" and not again.log
    # A build marked as dying that is the last one left is still tried rather than nothing.
    rb.mark_failed(PLAN[1], "died with SIGILL", tmp_path / "cache")
    last = Fakes(tmp_path, {"portable": CHILD_OK})
    assert last.choose(PLAN[1:]).variant.name == "portable"


def test_a_native_build_that_will_not_compile_falls_back_too(tmp_path: Path) -> None:
    fakes = Fakes(tmp_path, {"portable": CHILD_OK}, build_fails=frozenset({"native-noamx"}))
    outcome = fakes.choose(PLAN)
    assert outcome.variant.name == "portable" and "build failed" in fakes.log[0]
    both = Fakes(tmp_path, {}, build_fails=frozenset({"native-noamx", "portable"}))
    with pytest.raises(rb.BuildFailed, match="portable"):
        both.choose(PLAN)


def test_a_healthy_native_build_is_kept(tmp_path: Path) -> None:
    fakes = Fakes(tmp_path, {"native-noamx": CHILD_OK, "portable": CHILD_SIGILL})
    outcome = fakes.choose(PLAN)
    assert outcome.variant.name == "native-noamx" and fakes.built == ["native-noamx"] and not fakes.log


# --- the script end to end (fakes for pip), the record and doctor ------------------------------------------


def test_script_falls_back_records_and_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script()
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    (tmp_path / "venv").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CMAKE_ARGS", raising=False)
    monkeypatch.setattr(script, "cpu_flags", lambda: rb.cpu_flags(cpuinfo(SAPPHIRE_RAPIDS)))
    monkeypatch.setattr(script.subprocess, "run", _fake_pip([]))
    monkeypatch.setattr(script, "installed_from", lambda path: False)
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    children = {"native-noamx": CHILD_SIGILL, "portable": CHILD_OK}
    installed: list[str] = []
    real_install = script.install

    def install(wheel: rb.Wheel) -> None:
        installed.append(wheel.path.parent.name.split("-")[1])
        real_install(wheel)

    def fake_smoke(path: Path, **kw: Any) -> rb.SmokeResult:
        assert path == model
        return rb.smoke_test(path, code=children["native-noamx" if installed[-1] == "native" else "portable"])

    monkeypatch.setattr(script, "install", install)
    monkeypatch.setattr(script, "smoke_test", fake_smoke)
    assert script.main(["--model", str(model)]) == 0
    out = capsys.readouterr().out
    assert "smoke test FAILED: died with SIGILL" in out and "falling back to the portable build" in out
    record = rb.read_record()
    assert record is not None and record["variant"] == "portable" and record["smoke"]["ok"]
    assert rb.record_path() == tmp_path / "venv" / "mentor-llama-build.json"

    children["portable"] = CHILD_EXIT
    assert script.main(["--model", str(model), "--retry"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("build_llama: error: llama.cpp cannot run on this machine")
    failed = rb.read_record()
    assert failed is not None and failed["variant"] is None and "SIGILL" in failed["error"]
    assert [a["smoke"]["signal"] for a in failed["attempts"]] == ["SIGILL", None]
    assert str(rb.record_path()) in lines[-1]  # where each child's last output is
    monkeypatch.setattr(rb, "smoke_test", lambda path, **kw: rb.SmokeResult(True, "decoded 4 tokens", 1.0))
    assert rb.doctor_check(model).startswith("the last set-up found no working build (llama.cpp cannot run")


def test_script_without_a_model_says_how_to_give_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script()
    assert script.main(["--model", str(tmp_path / "missing.gguf")]) == 2
    assert "no GGUF model to smoke-test with" in capsys.readouterr().out


def test_print_cpu_args_for_gpu_check() -> None:
    out = subprocess.run([sys.executable, "scripts/build_llama.py", "--print-cpu-args", "--portable"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == rb.cpu_cmake_args(rb.PORTABLE_FLAGS)


def test_smoke_model_is_the_smallest_bundled_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mentor_local import models

    monkeypatch.setenv("MENTOR_MODELS_DIR", str(tmp_path))
    (tmp_path / "big.gguf").write_bytes(b"GGUF" + b"0" * 100)
    (tmp_path / "small.gguf").write_bytes(b"GGUF" + b"0" * 10)
    assert rb.smoke_model() == tmp_path / "small.gguf"  # no bundled model here: the smallest file
    monkeypatch.setattr(models, "BUNDLED_NAMES", frozenset({"big.gguf"}), raising=False)
    assert rb.smoke_model() == tmp_path / "big.gguf"  # a user's odd little GGUF is not the build's test
    assert rb.smoke_model(tmp_path / "small.gguf") == tmp_path / "small.gguf"


def test_doctor_check_shows_the_record_and_fails_when_the_child_dies(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    outcome = rb.Outcome(PLAN[0], rb.Wheel(tmp_path / "w.whl", 612.4, False), None)
    rb.write_record(outcome.record())
    real = rb.smoke_test
    monkeypatch.setattr(rb, "smoke_test", lambda path, **kw: real(path, code=CHILD_OK))
    line = rb.doctor_check(model)
    assert line.startswith("native-noamx: SSE42 AVX AVX2") and "no AMX" in line and "built in 612 s" in line
    assert "smoke test: decoded 4 tokens" in line and "m.gguf" in line
    monkeypatch.setattr(rb, "smoke_test", lambda path, **kw: real(path, code=CHILD_SIGILL))
    with pytest.raises(MentorError) as info:
        rb.doctor_check(model)
    assert "died with SIGILL" in info.value.one_line() and "make setup" in info.value.one_line()


# --- the real build ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_smoke_test_against_the_installed_build() -> None:
    pytest.importorskip("llama_cpp")
    model = rb.smoke_model()
    if model is None or not model.is_file():
        pytest.skip("no GGUF in models/ (make setup prepares one)")
    result = rb.smoke_test(model, timeout=300)
    assert result.ok, f"{result.detail}\n{result.stderr_tail}"
    assert result.tokens >= 1 and "AMX_INT8 = 1" not in result.system_info
    record = rb.read_record()
    if record is not None and record.get("variant"):
        assert not any("AMX" in a and a.endswith("=ON") for a in record["cmake_args"])


def test_a_cuda_build_is_kept_by_later_setups_unless_cpu_is_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script()
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(script, "cpu_flags", lambda: rb.cpu_flags(cpuinfo(EPYC)))
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(script.subprocess, "run", _fake_pip(calls))
    monkeypatch.setattr(script, "installed_from", lambda path: False)

    def built() -> list[str]:
        return [c["env"]["CMAKE_ARGS"] for c in calls if "wheel" in c["cmd"]]

    monkeypatch.setenv("CMAKE_ARGS", "-DGGML_CUDA=on")
    assert script.main(["--install-only"]) == 0
    record = rb.read_record()
    assert record is not None and record["variant"] == "cuda" and record["user_cmake_args"] == "-DGGML_CUDA=on"
    assert built()[-1].endswith("-DCMAKE_CUDA_ARCHITECTURES=native -DGGML_CUDA=on")
    monkeypatch.delenv("CMAKE_ARGS")
    assert script.main(["--install-only"]) == 0  # e.g. the Makefile after a pyproject change
    assert "keeping the CMAKE_ARGS of the installed build: -DGGML_CUDA=on" in capsys.readouterr().out
    assert len(built()) == 1 and (rb.read_record() or {})["variant"] == "cuda"  # reused, not rebuilt
    assert script.main(["--install-only", "--cpu"]) == 0
    assert (rb.read_record() or {})["variant"] == "native-noamx" and "GGML_CUDA" not in built()[-1]


def test_doctor_says_when_the_installed_llama_is_not_the_recorded_build(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    rb.write_record(rb.Outcome(PLAN[0], rb.Wheel(tmp_path / "w.whl", 600.0, False), None).record())
    real = rb.smoke_test
    monkeypatch.setattr(rb, "smoke_test", lambda path, **kw: real(path, code=CHILD_OK))
    monkeypatch.setattr(rb, "installed_wheel_url", lambda: "file:///elsewhere/llama.whl")
    assert "not that build (installed another way)" in rb.doctor_check(model)
    monkeypatch.setattr(rb, "installed_wheel_url", lambda: (tmp_path / "w.whl").as_uri())
    assert "installed another way" not in rb.doctor_check(model)
