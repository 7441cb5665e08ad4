"""Regenerate the pictures of the README and the docs site (``docs/img/``) with numgan's own command.

Run from the repository root (a few minutes on 2 cores: it trains three real GANs)::

    python scripts/make_pictures.py                  # or, keeping the runs:  --runs runs/pictures

It runs these three commands, into a temporary folder ``TMP`` (or the folder given as ``--runs``),
with ``OPENBLAS_NUM_THREADS=1`` and ``MPLBACKEND=Agg`` (``numgan`` is ``python -m numgan`` of the
interpreter running this script)::

    numgan train --out TMP --name ring --no-progress
    numgan train --out TMP --name ring-early --steps 150 --no-progress
    numgan train --data digits --out TMP --name digits --no-progress

The first is the README's quick start, ``numgan train``: the ring's recipe with its default 16,000
steps, seed 0. The second is the same recipe stopped after 150 steps, to show D's field early in
training. The third is the digits recipe with its default 40,000 steps (``numgan train --data digits``
of getting started). Then it takes from the run folders:

    ring/samples.png        -> docs/img/ring-samples.png
    ring/field.png          -> docs/img/ring-field.png
    ring/losses.png         -> docs/img/ring-losses.png
    ring-early/field.png    -> docs/img/ring-field-early.png
    digits/samples.png      -> docs/img/digits-samples.png
    ring/snapshots.npz      -> docs/img/ring-training.gif

The PNGs are the files the command wrote, re-encoded without loss (RGB instead of RGBA, or an exact
palette where a picture has at most 256 colours, and the encoder's best compression). The GIF
is drawn from the run's snapshots (the 1,000 fixed-noise samples every 400 steps, which the
command's own ``training.gif`` shows) by the same function, ``numgan.viz.training_gif``, with 1,000
real points and no mode crosses (they would hide the samples), on the box [-1.3, 1.3]^2 around the
ring, from step 400 (the samples of step 1 reach x2 = 5.5 and would shrink the ring to a corner);
then every second frame is kept, 360 pixels wide, with one 64-colour palette and the last frame
held 2 s.

The script prints the runs' summary lines (the numbers the captions in the docs quote) and each
picture's size, which must stay under 200 KB; ``tests/test_pictures.py`` checks the committed
files, and that every file of ``docs/img/`` is one of ``PICTURES``, without training anything.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
MAX_BYTES = 200 * 1024

#: the runs: name -> the arguments of ``numgan train`` besides ``--out TMP --name <name>``
RUNS: dict[str, list[str]] = {
    "ring": ["--no-progress"],
    "ring-early": ["--steps", "150", "--no-progress"],
    "digits": ["--data", "digits", "--no-progress"],
}

#: the pictures: file in docs/img/ -> (run, file the run wrote)
PICTURES: dict[str, tuple[str, str]] = {
    "ring-samples.png": ("ring", "samples.png"),
    "ring-field.png": ("ring", "field.png"),
    "ring-losses.png": ("ring", "losses.png"),
    "ring-field-early.png": ("ring-early", "field.png"),
    "digits-samples.png": ("digits", "samples.png"),
    "ring-training.gif": ("ring", "snapshots.npz"),
}
#: the GIF's box around the ring, and its first step (the frames are those of ``numgan train``: every 400 steps)
GIF_BOUNDS, GIF_FROM = (-1.3, 1.3, -1.3, 1.3), 400


def command_line(name: str) -> list[str]:
    """The ``numgan train`` command of run ``name``, as the docstring writes it (``--data`` first)."""
    args = RUNS[name]
    data = args[:2] if args[:1] == ["--data"] else []
    return ["numgan", "train", *data, "--out", "TMP", "--name", name, *args[len(data):]]


def metrics_line(metrics: dict[str, Any]) -> str:
    """The numbers of a run's ``metrics.json`` that the docs quote."""
    if "modes_covered" in metrics:
        return (f"{metrics['modes_covered']}/{metrics['modes']} modes, {100 * metrics['high_quality']:.1f} % high "
                f"quality, reverse KL {metrics['reverse_kl']:.3f}, counts {metrics['counts']}")
    gan = metrics.get("gan", {})
    return ", ".join(f"{k} {gan[k]:.3f}" for k in ("classifier_score", "precision", "recall") if k in gan)


def train(name: str, out: Path) -> None:
    """Run ``numgan train`` for run ``name`` into ``out`` (its output is printed as it comes)."""
    cmd = [sys.executable, "-m", "numgan", *command_line(name)[1:]]
    cmd[cmd.index("TMP")] = str(out)
    print("$", " ".join(command_line(name)).replace("TMP", str(out)), flush=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def small_png(src: Path, dst: Path) -> None:
    """``src`` re-encoded without loss: as a palette PNG when it has at most 256 colours, else as RGB.

    A lossy palette is not used: on D's map, a diverging colour scale centred on white, a palette
    colour a few levels off turns a pale purple (D slightly below 0.5) into a pale green.
    """
    from PIL import Image
    with Image.open(src) as im:
        rgb = im.convert("RGB")                 # matplotlib's PNGs are RGBA, fully opaque
    out = rgb
    if rgb.getcolors(256) is not None:          # at most 256 colours: try an exact palette
        palette = rgb.quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
        if palette.convert("RGB").tobytes() == rgb.tobytes():
            out = palette
    out.save(dst, optimize=True)


def small_gif(src: Path, dst: Path, every: int = 2, width: int = 360, colors: int = 64, hold_ms: int = 2000) -> None:
    """``src`` with every ``every``-th frame (and the last), ``width`` pixels wide, one palette of ``colors``."""
    from PIL import Image, ImageSequence
    with Image.open(src) as im:
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(im)]
        duration = int(im.info.get("duration", 250))
    keep = frames[::every] if (len(frames) - 1) % every == 0 else frames[::every] + frames[-1:]
    height = round(keep[0].height * width / keep[0].width)
    keep = [f.resize((width, height), Image.Resampling.LANCZOS) for f in keep]
    palette = keep[-1].quantize(colors=colors, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    out = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in keep]
    durations = [duration * every] * (len(out) - 1) + [hold_ms]
    out[0].save(dst, save_all=True, append_images=out[1:], duration=durations, loop=0, optimize=True,
                disposal=1)


def ring_gif(run: Path, dst: Path) -> None:
    """The ring run's snapshots as a GIF on ``GIF_BOUNDS`` from step ``GIF_FROM``, then made small."""
    import numpy as np
    from numgan.data import ring
    from numgan.train import Snapshots
    from numgan.viz import training_gif

    steps = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["steps"]      # 16,000: the recipe's
    snapshots = Snapshots(every=steps // 40, n=1000, seed=1)    # numgan train's: --snapshots 40, --seed 0 + 1
    snapshots.load(run / "snapshots.npz", upto=steps)
    frames = [(step, x) for step, x in snapshots.frames if step >= GIF_FROM]
    real = ring(1000, rng=np.random.default_rng(3))
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "training.gif"
        training_gif(frames, full, real=real, bounds=GIF_BOUNDS)
        small_gif(full, dst)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=Path, help="train into this folder, and keep the runs, instead of a "
                                                  "temporary one; a run already finished there is not trained again")
    args = parser.parse_args(argv)
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="numgan-pictures-") as scratch:
        tmp = args.runs or Path(scratch)
        for name in RUNS:
            if (tmp / name / "metrics.json").is_file():
                print(f"{tmp / name}: already trained, kept")
            else:
                train(name, tmp)
            summary = json.loads((tmp / name / "metrics.json").read_text(encoding="utf-8"))
            print(f"  {name}: {metrics_line(summary)}")
        for picture, (run, written) in PICTURES.items():
            src, dst = Path(tmp) / run / written, IMG / picture
            if written == "snapshots.npz":
                ring_gif(src.parent, dst)
            else:
                small_png(src, dst)
            size = dst.stat().st_size
            print(f"{dst.relative_to(ROOT)}: {size / 1024:.0f} KB (from {run}/{written}, {src.stat().st_size / 1024:.0f} KB)")
            if size > MAX_BYTES:
                sys.exit(f"{dst.relative_to(ROOT)} is {size / 1024:.0f} KB, over {MAX_BYTES // 1024} KB")


if __name__ == "__main__":
    main()
