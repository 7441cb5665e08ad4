"""Soak: kill a long ring-recipe run many times at random moments, resume it each time, and check that it
ends bit for bit where an uninterrupted run ends; report the memory (RSS) of the workers over time.

Two worker processes train the ring recipe (``resolve_recipe("ring", steps=...)``, seed 0, the
recipe's learning-rate decay, a checkpoint every ``--every`` steps), as ``numgan train`` does:

* the *uninterrupted* run trains from step 0 to the end in one process;
* the *killed* run is killed ``--kills`` times at random moments (seeded): kill i is due when its
  checkpoint gets within ``--every`` steps of a random target step (so the kills spread over the
  whole run) and comes up to ``--max-delay`` seconds later (so it may land in start-up, in a step or
  in a checkpoint write). Most kills are SIGKILL (no handler runs), some SIGINT (``fit`` saves a
  checkpoint of the last whole step and exits with 130). Each time it is restarted and resumes from
  whatever checkpoint is on disk (from scratch when there is none yet).

At the end the two final checkpoints are compared part by part, byte for byte: G, D, G_ema, both
optimizers' state (moments, step counts, learning rates), the rng state, the step and the whole
history. Along the way, every checkpoint the killed run leaves behind at a multiple of ``--every``
is compared (by BLAKE2 digests) with the uninterrupted run's checkpoint of the same step, so that a
difference is traced to the life (the resume) it first appears in. The parent samples each worker's
RSS (``VmRSS`` in ``/proc/<pid>/status``) every ``--sample`` seconds.

    python benchmarks/soak.py              # 50,000 steps, checkpoint every 1,000, 20 kills (~6 min, 2 cores)
    python benchmarks/soak.py --quick      # 600 steps, checkpoint every 50, 3 kills (seconds)

The workers run at the same time, one BLAS thread each (``--sequential`` runs them one after the other).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("G", "D", "G_ema", "opt_G", "opt_D", "rng", "step", "history")
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# -- what a checkpoint holds, part by part ------------------------------------------------------------

def _part(name: str) -> str:
    return name.split("/", 1)[0]             # "G/params" -> "G", "opt_D/m.W0" -> "opt_D", "history/d_loss" -> ...


def checkpoint_parts(path: Path) -> tuple[int, dict[str, bytes]]:
    """The step of the checkpoint at ``path`` and its parts as canonical bytes (arrays' dtype, shape, data)."""
    from numgan.checkpoint import read_checkpoint

    meta, arrays = read_checkpoint(path)
    chunks: dict[str, list[bytes]] = {p: [] for p in PARTS}
    for name in sorted(arrays):
        a = arrays[name]
        chunks.setdefault(_part(name), []).append(f"{name}|{a.dtype.str}|{a.shape}|".encode() + a.tobytes())
    for part in ("opt_G", "opt_D", "rng", "step"):
        chunks[part].append(json.dumps(meta[part], sort_keys=True).encode())
    return int(meta["step"]), {part: b"\0".join(c) for part, c in chunks.items()}


def digests(path: Path) -> tuple[int, dict[str, str]]:
    step, parts = checkpoint_parts(path)
    return step, {p: hashlib.blake2b(b, digest_size=16).hexdigest() for p, b in parts.items()}


# -- the worker: train (or resume) the ring recipe with checkpoints -----------------------------------

def worker(run_dir: Path, steps: int, every: int, seed: int, digests_path: Path | None) -> int:
    import numpy as np

    from numgan.checkpoint import load_checkpoint, load_history
    from numgan.data import default_std, mixture
    from numgan.history import History
    from numgan.recipes import resolve_recipe
    from numgan.train import TrainingInterrupted, decay_callbacks, fit

    recipe = resolve_recipe("ring", steps=steps)
    checkpoint = run_dir / "checkpoint.npz"
    if checkpoint.exists():
        gan, rng = load_checkpoint(checkpoint)
        history = load_history(checkpoint)
    else:
        gan, rng, history = recipe.build_gan(seed), np.random.default_rng(seed), History()
    std = default_std("ring")
    print(f"life starts at step {gan.step}", flush=True)
    seen: dict[int, dict[str, str]] = {}

    def record_previous(_gan: object) -> None:     # before each save: the digests of the checkpoint it replaces
        if digests_path is not None and checkpoint.exists():
            step, d = digests(checkpoint)
            seen[step] = d

    try:
        fit(gan, lambda n, r: mixture("ring", n, rng=r, std=std), steps, recipe.loop["batch_size"], rng=rng,
            progress=False, callbacks=decay_callbacks(steps, recipe.loop["decay_from"]), history=history,
            checkpoint_path=checkpoint, checkpoint_every=every, checkpoint_extra={"soak": True},
            before_checkpoint=record_previous)
    except TrainingInterrupted as err:
        print(f"interrupted: {err}", flush=True)
        return 130
    if digests_path is not None:
        record_previous(gan)
        digests_path.write_text(json.dumps({str(k): v for k, v in sorted(seen.items())}))
    print(f"life ends at step {gan.step}", flush=True)
    return 0


# -- the parent: start, sample, kill, restart ---------------------------------------------------------

def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


class Run:
    """One run folder and its current worker process."""

    def __init__(self, name: str, folder: Path, args: argparse.Namespace, digests_path: Path | None = None):
        self.name, self.dir = name, folder / name
        self.dir.mkdir(parents=True)
        self.cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(self.dir), "--steps",
                    str(args.steps), "--every", str(args.every), "--train-seed", str(args.train_seed)]
        if digests_path is not None:
            self.cmd += ["--digests", str(digests_path)]
        self.log = open(self.dir.parent / f"{name}.log", "ab")
        self.proc: subprocess.Popen | None = None
        self.samples: list[tuple[float, float, int]] = []     # (seconds since the start, RSS MB, life)
        self.lives: list[dict] = []
        self.started = self.ended = None

    def spawn(self, now: float) -> None:
        if self.started is None:
            self.started = now
        step = digests(self.dir / "checkpoint.npz")[0] if (self.dir / "checkpoint.npz").exists() else 0
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**os.environ, **WORKER_ENV})
        self.lives.append({"life": len(self.lives) + 1, "from_step": step, "spawned_s": round(now - self.t0, 2)})

    def sample(self, now: float) -> None:
        if self.proc is not None and self.proc.poll() is None:
            rss = rss_mb(self.proc.pid)
            if rss is not None:
                self.samples.append((now - self.t0, rss, len(self.lives)))


def rss_summary(run: Run, skip_s: float = 1.0) -> dict:
    """RSS figures over a run's samples, leaving out each life's first ``skip_s`` seconds (interpreter start)."""
    spawned = {life["life"]: life["spawned_s"] for life in run.lives}
    steady = [(t, r, life) for t, r, life in run.samples if t - spawned[life] >= skip_s] or run.samples
    values = [r for _, r, _ in steady]
    if not values:
        return {}
    end = max(t for t, _, _ in steady) or 1.0
    bins: dict[int, list[float]] = {}
    for t, r, _ in steady:
        bins.setdefault(min(9, int(10 * t / end)), []).append(r)
    per_life: dict[int, float] = {}
    for _, r, life in steady:
        per_life[life] = max(per_life.get(life, 0.0), r)
    return {"samples": len(run.samples), "min": round(min(values), 1), "median": round(statistics.median(values), 1),
            "max": round(max(values), 1),
            "median_by_tenth_of_time": [round(statistics.median(bins[b]), 1) if b in bins else None
                                        for b in range(10)],
            "max_per_life": [round(per_life[k], 1) for k in sorted(per_life)] if len(per_life) > 1 else None}


def soak(args: argparse.Namespace, folder: Path) -> dict:
    """Run both runs in ``folder``; on any error or Ctrl-C, end the workers it started before re-raising."""
    runs: list[Run] = []
    try:
        return _soak(args, folder, runs)
    finally:
        for run in runs:
            if run.proc is not None and run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()
            run.log.close()


def _soak(args: argparse.Namespace, folder: Path, runs: list[Run]) -> dict:
    import numpy as np

    schedule = np.random.default_rng(args.seed)
    digests_path = folder / "uninterrupted_digests.json"
    plain = Run("uninterrupted", folder, args, digests_path)
    killed = Run("killed", folder, args)
    runs += [plain, killed]
    t0 = time.monotonic()
    plain.t0 = killed.t0 = t0
    kills: list[dict] = []
    kill_at: float | None = None
    kill_signal = signal.SIGKILL
    sent: dict | None = None
    next_sample = t0
    order = [killed] if args.sequential else [plain, killed]
    waiting = [plain] if args.sequential else []       # runs started once ``order`` is done

    # kill i comes at a random moment once the killed run's checkpoint is within --every steps of a random
    # target step (so that the kills spread over the whole run, the learning-rate decay included)
    targets = sorted(int(t) for t in schedule.integers(1, max(2, args.steps - args.margin), size=args.kills))

    def disk_step() -> int:
        on_disk = killed.dir / "checkpoint.npz"
        return digests(on_disk)[0] if on_disk.exists() else 0

    def schedule_kill(now: float) -> tuple[float | None, int]:
        if len(kills) >= args.kills or disk_step() < targets[len(kills)] - args.every:
            return None, signal.SIGKILL
        sig = signal.SIGINT if schedule.random() < args.sigint_fraction else signal.SIGKILL
        return now + schedule.uniform(args.min_delay, args.max_delay), sig

    for run in order:
        run.spawn(t0)
    kill_at, kill_signal = schedule_kill(t0)
    while True:
        now = time.monotonic()
        if now >= next_sample:
            for run in (plain, killed):
                run.sample(now)
            next_sample = now + args.sample
            if kill_at is None and sent is None and killed in order:
                kill_at, kill_signal = schedule_kill(now)
        for run in list(order):
            rc = run.proc.poll()
            if rc is None:
                continue
            life = run.lives[-1]
            life.update(rc=rc, ended_s=round(now - t0, 2))
            on_disk = run.dir / "checkpoint.npz"
            life["to_step"], life["digests"] = digests(on_disk) if on_disk.exists() else (0, None)
            if run is killed and sent is not None:
                life["killed_by"] = sent["signal"]
                sent = None
            elif rc != 0:
                raise SystemExit(f"soak: the {run.name} worker failed (exit {rc}) on its own; see "
                                 f"{run.dir.parent / (run.name + '.log')}")
            if rc == 0 and life["to_step"] == args.steps:
                run.ended = now
                order.remove(run)
                continue
            run.spawn(now)                                  # resume from the checkpoint on disk
            if run is killed:
                kill_at, kill_signal = schedule_kill(now)
        if not order:
            if not waiting:
                break
            order = waiting
            waiting = []
            for run in order:
                run.spawn(now)
            continue
        if sent is not None and sent["signal"] == "SIGINT" and killed.proc.poll() is None \
                and now - t0 - sent["at_s"] > args.sigint_grace:
            killed.proc.kill()                              # a SIGINT the worker did not act on
            sent["escalated_to_sigkill_after_s"] = args.sigint_grace
        if killed in order and kill_at is not None and now >= kill_at and sent is None \
                and killed.proc.poll() is None:
            on_disk = killed.dir / "checkpoint.npz"
            killed.proc.send_signal(kill_signal)
            sent = {"signal": signal.Signals(kill_signal).name, "at_s": round(now - t0, 2),
                    "after_s_of_life": round(now - t0 - killed.lives[-1]["spawned_s"], 2),
                    "target_step": targets[len(kills)],
                    "checkpoint_step_then": digests(on_disk)[0] if on_disk.exists() else None}
            kills.append(sent)
            kill_at = None
        time.sleep(0.02)

    wall = time.monotonic() - t0
    a_step, a = checkpoint_parts(plain.dir / "checkpoint.npz")
    b_step, b = checkpoint_parts(killed.dir / "checkpoint.npz")
    identical = {p: a.get(p) == b.get(p) for p in sorted(set(a) | set(b), key=lambda p: (p not in PARTS, p))}
    reference = json.loads(digests_path.read_text())
    compared, first_mismatch = [], None
    for life in killed.lives:       # the checkpoint each life left behind against the reference's of that step
        step, d = life.get("to_step"), life.get("digests")
        if not d or str(step) not in reference:
            continue                # no checkpoint yet, or a SIGINT one between two multiples of --every
        bad = [p for p in d if d[p] != reference[str(step)].get(p)]
        compared.append({"life": life["life"], "step": step, "identical": not bad})
        if bad and first_mismatch is None:
            first_mismatch = {"life": life["life"], "resumed_from_step": life["from_step"], "checkpoint_step": step,
                              "parts": bad}
    leftovers = sorted(p.name for p in killed.dir.iterdir() if p.name != "checkpoint.npz")
    return {
        "date": args.date, "quick": args.quick, "recipe": "ring", "train_seed": args.train_seed,
        "kill_seed": args.seed, "steps": args.steps, "checkpoint_every": args.every,
        "parallel": not args.sequential,
        "kills": len(kills), "kills_sigkill": sum(k["signal"] == "SIGKILL" for k in kills),
        "kills_sigint": sum(k["signal"] == "SIGINT" for k in kills),
        "sigints_escalated": sum("escalated_to_sigkill_after_s" in k for k in kills),
        "resumes": sum(life["from_step"] > 0 for life in killed.lives[1:]),
        "lives": len(killed.lives), "final_step": {"uninterrupted": a_step, "killed": b_step},
        "identical": identical, "identical_all": all(identical.values()) and a_step == b_step == args.steps,
        "checkpoints_compared": len(compared), "checkpoints_identical": sum(c["identical"] for c in compared),
        "first_mismatch": first_mismatch,
        "leftover_files": leftovers,
        "kill_log": kills, "life_log": killed.lives,
        "rss_mb": {"uninterrupted": rss_summary(plain), "killed": rss_summary(killed)},
        "wall_s": {"total": round(wall, 1),
                   "uninterrupted": round((plain.ended or t0) - plain.started, 1),
                   "killed": round((killed.ended or t0) - killed.started, 1)},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="600 steps, a checkpoint every 50, 3 kills")
    p.add_argument("--steps", type=int, help="training steps of both runs (default 50000)")
    p.add_argument("--every", type=int, help="checkpoint every so many steps (default 1000)")
    p.add_argument("--kills", type=int, help="how many times to kill the killed run (default 20)")
    p.add_argument("--min-delay", type=float, help="a kill comes at least this long after it is due (s)")
    p.add_argument("--max-delay", type=float, help="... and at most this long (s)")
    p.add_argument("--margin", type=int, help="no kill target in the last so many steps (default 3000; --quick: 300), "
                   "so that every kill comes before the run ends")
    p.add_argument("--sigint-fraction", type=float, default=0.25, help="share of kills sent as SIGINT")
    p.add_argument("--sigint-grace", type=float, default=10.0,
                   help="a worker still running so long after a SIGINT is sent a SIGKILL (s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill schedule")
    p.add_argument("--train-seed", type=int, default=0, help="seed of the training runs")
    p.add_argument("--sample", type=float, default=0.5, help="RSS sampling period (s)")
    p.add_argument("--sequential", action="store_true", help="run the uninterrupted run after the killed one")
    p.add_argument("--work", help="folder for the two run folders (default: a temporary folder, deleted)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "soak.json"), help="JSON report")
    p.add_argument("--date", default=datetime.date.today().isoformat())
    p.add_argument("--worker", metavar="RUN_DIR", help=argparse.SUPPRESS)
    p.add_argument("--digests", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = dict(steps=600, every=50, kills=3, min_delay=0.0, max_delay=0.3, margin=300)
    full = dict(steps=50000, every=1000, kills=20, min_delay=0.0, max_delay=8.0, margin=3000)
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.worker:
        # Python leaves SIGINT ignored when it was ignored at start (e.g. under `nohup ... &`), and then fit
        # never sees one: restore the default, as an interactive `numgan train` has it
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return worker(Path(args.worker), args.steps, args.every, args.train_seed,
                      Path(args.digests) if args.digests else None)
    if args.work:
        folder = Path(args.work)
        folder.mkdir(parents=True, exist_ok=True)
        report = soak(args, Path(tempfile.mkdtemp(prefix="soak-", dir=folder)))
    else:
        with tempfile.TemporaryDirectory(prefix="numgan-soak-") as tmp:
            report = soak(args, Path(tmp))
    report = {"command": "python benchmarks/soak.py" + "".join(
        f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv)), **report}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    brief = {k: report[k] for k in ("steps", "checkpoint_every", "kills", "kills_sigkill", "kills_sigint",
                                    "resumes", "identical", "identical_all", "first_mismatch", "wall_s")}
    brief["rss_mb"] = {k: {s: v.get(s) for s in ("min", "median", "max")} for k, v in report["rss_mb"].items()}
    print(json.dumps(brief, indent=2))
    print(f"wrote {out}")
    return 0 if report["identical_all"] else 1


if __name__ == "__main__":
    sys.exit(main())
