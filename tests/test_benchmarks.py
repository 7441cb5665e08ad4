"""The benchmark scripts run (on tiny settings); their numbers live in docs/results.md, not here."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
