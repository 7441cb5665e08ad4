"""Hashes of short training runs: proof that a refactor changed no number.

Trains 200 steps of every objective x penalty (none, R1, WGAN-GP, lazy R1
every 4) x pack (1, 2) x conditional (no, yes) on a small 2-D problem, and
200 steps of the digits recipe, then prints per run one hash of every
parameter and optimizer state (G, D, G's moving average, both Adams) and one
of the training history::

    python scripts/training_hashes.py > before.txt
    ... change the code ...
    python scripts/training_hashes.py > after.txt
    diff before.txt after.txt

Run both with the same NumPy on the same machine. The history is hashed by
its current key names (``p_real``/``p_fake`` for the mean probabilities, which
older versions called ``d_real``/``d_fake``); with a lazy penalty, ``d_loss``
and ``penalty`` are hashed on the steps that compute the penalty only (the
other steps record none since the refactor of issue 13).
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numgan  # noqa: E402,F401
import numpy as np  # noqa: E402

from numgan.gan import GAN  # noqa: E402
from numgan.network import mlp  # noqa: E402
from numgan.train import decay_callbacks, fit  # noqa: E402

OBJECTIVES = ("minimax", "non_saturating", "least_squares", "wasserstein", "wasserstein_gp", "hinge",
              "seed_as_written")
PENALTIES = {"none": {}, "r1": dict(penalty="r1", penalty_weight=0.5),
             "wgan_gp": dict(penalty="wgan_gp", penalty_weight=2.0),
             "lazy_r1": dict(penalty="r1", penalty_weight=0.5, penalty_every=4)}
RENAMED = {"d_real": "p_real", "d_fake": "p_fake"}
STEPS = 200


def _digest(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    return h.hexdigest()[:16]


def state_hash(gan) -> str:
    """One hash of the parameters, the moving average and both optimizers' state and step counters."""
    parts = [gan.G.flat_params, gan.D.flat_params]
    if gan.G_ema is not None:
        parts.append(gan.G_ema.flat_params)
    for opt in (gan.opt_G, gan.opt_D):
        state = opt.state_dict()
        for key in sorted(state):
            parts += [key, state[key]]
    return _digest(parts)


def history_hash(history, penalty_every: int) -> str:
    """One hash of the history by its current key names; lazy steps that compute no penalty are skipped."""
    parts = []
    for key in sorted(RENAMED.get(k, k) for k in history):
        old = {v: k for k, v in RENAMED.items()}.get(key, key)
        values = np.asarray(history[key] if key in history else history[old], dtype=np.float64)
        if penalty_every > 1 and key in ("d_loss", "penalty"):
            values = values[::penalty_every]
        parts += [key, values]
    return _digest(parts)


def small_run(objective: str, penalty: str, pack: int, conditional: bool):
    rng = np.random.default_rng(1)
    n_classes = 3 if conditional else None
    c = n_classes or 0
    x = rng.standard_normal((512, 2)).astype(np.float32)
    x[:, 0] += np.repeat([-2.0, 0.0, 2.0], [171, 171, 170]).astype(np.float32)
    labels = np.repeat(np.arange(3), [171, 171, 170])
    options = dict(PENALTIES[penalty])
    if objective in ("minimax", "non_saturating"):
        options["label_smoothing"] = 0.1
    if objective == "wasserstein":
        options["clip"] = 0.05
    if objective in ("wasserstein", "wasserstein_gp"):
        options["d_steps"] = 2
    if objective == "hinge":
        options.update(instance_noise=0.2, instance_noise_steps=150)
    if objective == "least_squares":
        options["instance_noise"] = 0.1
    seed = np.random.default_rng(2)
    G = mlp([4 + c, 16, 16, 2], "leaky_relu", None, seed=seed)
    D = mlp([pack * (2 + c), 16, 16, 1], "tanh" if penalty == "wgan_gp" else "relu", None, seed=seed)
    gan = GAN(G, D, objective=objective, g_lr=1e-3, d_lr=2e-3, ema=0.9, pack=pack, n_classes=n_classes,
              **options)
    data = (x, labels) if conditional else x
    history = fit(gan, data, STEPS, batch_size=16, rng=3, progress=False,
                  callbacks=decay_callbacks(STEPS, 0.5))
    return gan, history, options.get("penalty_every", 1)


def digits_run():
    try:
        from numgan.data import load_images
        from numgan.recipes import resolve_recipe
        recipe = resolve_recipe("digits", steps=STEPS)
        gan = recipe.build_gan(seed=0)
        x, _ = load_images("digits")
        loop = recipe.loop
    except ImportError:                         # before issue 13
        from numgan.images import IMAGE_RECIPES, image_gan, load_images
        gan = image_gan("digits", 0)
        x, _ = load_images("digits")
        loop = dict(IMAGE_RECIPES["digits"], steps=STEPS)
    history = fit(gan, x, loop["steps"], loop["batch_size"], rng=0, progress=False,
                  callbacks=decay_callbacks(loop["steps"], loop["decay_from"]))
    return gan, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one configuration per objective only")
    args = parser.parse_args()
    np.seterr(all="ignore")        # seed_as_written and clipped critics may produce inf on purpose
    grid = list(itertools.product(OBJECTIVES, PENALTIES, (1, 2), (False, True)))
    if args.quick:
        grid = [(o, "r1", 2, True) for o in OBJECTIVES]
    for objective, penalty, pack, conditional in grid:
        name = f"{objective}/{penalty}/pack{pack}/{'conditional' if conditional else 'plain'}"
        try:
            gan, history, every = small_run(objective, penalty, pack, conditional)
            print(f"{name:50s} state={state_hash(gan)} history={history_hash(history, every)}", flush=True)
        except Exception as err:            # a diverged run is a result too; it must diverge the same way
            print(f"{name:50s} error={type(err).__name__}: {str(err).split(';')[0]}", flush=True)
    gan, history = digits_run()
    print(f"{'digits recipe':50s} state={state_hash(gan)} history={history_hash(history, 1)}")


if __name__ == "__main__":
    main()
