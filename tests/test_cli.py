"""The command line, run as a user would, in a subprocess."""
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "numgan.cli", *args], capture_output=True, text=True, timeout=300)


def test_demo_trains_and_checks_gradients():
    out = run("demo", "--steps", "200")
    assert out.returncode == 0, out.stderr
    accuracy = float(out.stdout.split("Accuracy on 2000 fresh points: ")[1].split()[0])
    assert accuracy > 0.9
    assert "All gradients agree" in out.stdout and "WRONG" not in out.stdout


def test_bad_option_gives_a_one_line_error():
    out = run("demo", "--steps", "0")
    assert out.returncode == 2
    assert "--steps must be >= 1, got 0" in out.stderr
    assert "Traceback" not in out.stderr
