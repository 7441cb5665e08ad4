"""The benchmark scripts run (on tiny settings); their numbers live in docs/results.md, not here."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    import importlib.util
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mode_coverage_benchmark_runs_quick(tmp_path):
    out = tmp_path / "mc.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "mode_coverage.py"), "--quick",
                           "--part", "targets", "--jobs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {r["data"] for r in report["summary"]} == {"ring", "grid"}
    assert all(r["seeds"] == 2 and r["steps"] == 200 for r in report["summary"])
    assert "| data | configuration |" in proc.stdout


def test_mode_coverage_benchmark_takes_overrides(tmp_path):
    out = tmp_path / "mc.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "mode_coverage.py"), "--quick",
                           "--part", "targets", "--data", "ring", "--jobs", "1", "--set", "hidden=[8]",
                           "--set", "activation=leaky_relu", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(out.read_text())["runs"]
    assert {r["data"] for r in runs} == {"ring"}
    assert all(r["overrides"] == {"hidden": [8], "activation": "leaky_relu"} for r in runs)
    assert "with {'hidden': [8], 'activation': 'leaky_relu'}" in runs[0]["label"]


def test_image_quality_benchmark_runs_quick_with_an_override(tmp_path):
    out = tmp_path / "iq.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "image_quality.py"), "--quick",
                           "--only", "digits", "--jobs", "1", "--set", "g_hidden=[16]", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert [r["experiment"] for r in report["runs"]] == ["digits"]
    run = report["runs"][0]
    assert run["overrides"] == {"g_hidden": [16]} and run["steps"] == 50
    assert 1 <= run["rows"]["gan"]["classifier_score"] <= 10
    assert "**digits** with {'g_hidden': [16]}" in report["tables"][0]


def test_image_quality_benchmark_runs_the_dcgan_recipe_on_chosen_seeds(tmp_path):
    out = tmp_path / "iq.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "image_quality.py"), "--quick", "--arch", "dcgan",
                           "--only", "digits", "--first-seed", "10", "--jobs", "1", "--set", "width=4",
                           "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    run, = report["runs"]
    assert (run["arch"], run["seed"], run["overrides"]) == ("dcgan", 10, {"width": 4})
    assert 1 <= run["rows"]["gan"]["classifier_score"] <= 10
    assert report["tables"][0].startswith("**digits** (DCGAN) with {'width': 4} (1 seeds: 10;")


@pytest.mark.parametrize("argv, message", [
    (["--arch", "dcgan", "--only", "conditional-digits"], "no conditional recipe"),
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--first-seed", "-1"], "--first-seed at least 0"),
    (["--arch", "dcgan", "--only", "digits", "--set", "hidden=[8]"], "--set: "),
    (["--only", "digits", "--set", "steps=-5"], "--set: "),
])
def test_image_quality_benchmark_refuses_what_it_cannot_run(argv, message):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "image_quality.py"), *argv],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and message in proc.stderr


def test_quality_curve_measures_g_and_its_average_at_the_steps_asked(tmp_path):
    out = tmp_path / "curve.json"
    script = str(ROOT / "benchmarks" / "quality_curve.py")
    proc = subprocess.run([sys.executable, script, "--data", "digits", "--steps", "6", "--at", "3,6", "--set", "width=4",
                           "--set", "ema=0.9", "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(out.read_text())
    assert (run["arch"], run["steps"], run["overrides"]) == ("dcgan", 6, {"width": 4, "ema": 0.9})
    assert [e["step"] for e in run["evals"]] == [3, 6]
    assert all(1 <= e[row]["classifier_score"] <= 10 for e in run["evals"] for row in ("ema", "raw"))
    assert len(proc.stdout.splitlines()) == 2
    for argv, message in [(["--at", "5,3"], "increasing positive steps"),
                          (["--steps", "4", "--at", "3,6"], "within the run's 4 steps"),
                          (["--steps", "0"], "--steps must be positive"),
                          (["--set", "width=abc"], "--set: width must be a positive integer"),
                          (["--set", "nonsense=1"], "--set: unknown recipe settings")]:
        bad = subprocess.run([sys.executable, script, *argv], capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert bad.returncode == 2 and message in bad.stderr


def test_set_option_parses_json_or_keeps_text():
    import argparse

    setting = _load("overrides").setting
    assert setting("steps=30000") == ("steps", 30000)
    assert setting("g_lr=1e-3") == ("g_lr", 1e-3)
    assert setting("hidden=[64,64]") == ("hidden", [64, 64])
    assert setting("activation=relu") == ("activation", "relu")
    with pytest.raises(argparse.ArgumentTypeError, match="expected KEY=VALUE"):
        setting("steps")


def test_step_time_benchmark_runs_or_says_what_it_needs(tmp_path):
    """With PyTorch (the bench extra) it runs a tiny case; without it, it says how to install it."""
    out = tmp_path / "st.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "step_time.py"), "--quick", "--archs",
                           "mnist-mlp", "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    try:
        import torch  # noqa: F401
    except ImportError:
        assert proc.returncode == 2
        assert 'pip install -e ".[bench]"' in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 1 and rows[0]["arch"] == "mnist-mlp" and rows[0]["numgan_ms"] > 0
    assert 0 < rows[0]["fraction_of_gemm_rate"] < 1.5
    assert 0 < rows[0]["gemms_alone_fraction"] < 1.5 and rows[0]["gemms_alone_ms"] > 0
    assert rows[0]["torch_gemms_alone_ms"] > 0
    assert rows[0]["gemms_alone_over_torch_step"] == pytest.approx(rows[0]["gemms_alone_ms"] / rows[0]["torch_ms"])
    # the profile: products + optimizer + rest = the step, with a real optimizer time
    row = rows[0]
    assert 0 < row["optimizer_ms"] < row["numgan_ms"]
    assert row["gemms_alone_ms"] + row["optimizer_ms"] + row["rest_ms"] == pytest.approx(row["numgan_ms"])
    assert row["step_over_gemms_alone"] == pytest.approx(row["numgan_ms"] / row["gemms_alone_ms"])
    assert "profile of numgan's step" in proc.stdout


def test_step_time_benchmark_runs_the_dcgan_case(tmp_path):
    """``--archs dcgan``: numgan's DCGAN step against PyTorch's, with the products timed inside the step."""
    pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[bench]'")
    out = tmp_path / "st.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "step_time.py"), "--quick", "--archs",
                           "dcgan", "--out", str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["rows"]
    assert row["arch"] == "dcgan" and row["numgan_ms"] > 0 and row["torch_ms"] > 0
    # G: Dense, 2 ConvTranspose2d; D: Reshape, 2 Conv2d, Dense. D step: G 3 + D 3 forward, D 3 dW + 2 dx (none at
    # the first Conv2d: only a Reshape is below it); G step: 3 + 3 forward, D 3 dx, G 3 dW + 2 dx
    assert row["n_products"] == 25
    assert 0 < row["products_in_step_ms"] < row["numgan_ms"]
    assert row["outside_products_fraction"] == pytest.approx(1 - row["products_in_step_ms"] / row["numgan_ms"])
    assert 0 < row["fraction_of_gemm_rate"] < 1.5 and row["gemms_alone_ms"] > 0
    assert "outside products" in proc.stdout


def test_the_products_shim_times_every_product_and_changes_nothing():
    """The benchmark's timing shim sees each matrix product of a DCGAN step, and the step computes the same."""
    import numpy as np
    module = _load("step_time")
    arch = {"dcgan": True, "z": 4, "width": 2, "image": (8, 8), "x": 64}
    plain_gan, plain = module.numgan_step(arch, 4)
    timed_gan, timed = module.numgan_step(arch, 4)
    spent, shapes = module.time_products(timed_gan)
    plain()
    timed()
    np.testing.assert_array_equal(plain_gan.G.flat_params, timed_gan.G.flat_params)
    np.testing.assert_array_equal(plain_gan.D.flat_params, timed_gan.D.flat_params)
    assert len(shapes) == 25 and spent[0] > 0
    # D's first Conv2d(1, 2, 4, 2, 1) on a batch of 2 x 4 (real + fake) 8x8 images: (8 * 4 * 4, 16) @ (16, 2)
    assert (8 * 4 * 4, 16, 2) in shapes


def test_optimizer_blocks_benchmark_times_every_block_size(tmp_path):
    out = tmp_path / "ob.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "optimizer_blocks.py"), "--blocks", "65536",
                           "1048576", "--rounds", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert [r["block"] for r in report["rows"]] == [65536, 1048576, "whole"]
    assert report["parameters"] == 2_946_577                 # mnist-mlp's G and D
    assert report["rows"][-1]["ratio"] == 1.0 and all(r["ms"] > 0 for r in report["rows"])


def test_step_flops_count_by_hand():
    module = _load("step_time")
    arch = {"z": 2, "g": [3], "x": 4, "d": [5]}
    # G: 2x3 + 3x4 = 18 MACs per row (first layer 6); D: 4x5 + 5x1 = 25 (first layer 20).
    # D step: G fwd 18 + D fwd 2*25 + dW 2*25 + dx 2*(25-20) = 128; G step: 18 + 25 + 25 + 18 + (18-6) = 98
    assert module.gemm_flops(arch, 1) == 2 * (128 + 98)
    assert module.gemm_flops(arch, 64) == 64 * 2 * (128 + 98)


def test_soak_benchmark_runs_quick(tmp_path):
    """A 600-step ring run killed 3 times (SIGKILL and SIGINT) and resumed ends bit for bit as an uninterrupted one."""
    out = tmp_path / "soak.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["quick"] is True and report["steps"] == 600 and report["kills"] == 3
    assert report["identical_all"] is True and all(report["identical"].values())
    assert set(report["identical"]) >= {"G", "D", "G_ema", "opt_G", "opt_D", "rng", "step", "history"}
    assert report["final_step"] == {"uninterrupted": 600, "killed": 600}
    assert report["first_mismatch"] is None
    # a SIGKILL in a checkpoint write may leave its temporary file (a later save removes it after 60 s)
    assert all(name.endswith(".tmp") for name in report["leftover_files"])
    assert report["rss_mb"]["killed"]["max"] > 0
