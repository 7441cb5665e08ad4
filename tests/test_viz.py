"""Pictures: each function runs headless and writes a file; G's gradient field is exact."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.quiver import Quiver
from PIL import Image

from numgan import mlp, numerical_gradient, rel_error
from numgan.data import ring
from numgan.layers import stable_sigmoid
from numgan.objectives import OBJECTIVES, generator_loss
from numgan.viz import (discriminator_map, generator_gradient_field, plot_field, plot_history, plot_samples,
                        save_figure, training_gif)

REAL, MEANS = ring(200, rng=0, return_means=True)
FAKE = (0.5 * np.random.default_rng(1).standard_normal((40, 2))).astype(np.float32)
HISTORY = {"step": [0, 10, 20, 30], "d_loss": [1.4, 1.2, 1.1, 1.0], "g_loss": [0.7, 0.9, 1.0, 1.2],
           "p_real": [0.5, 0.6, 0.65, 0.7], "p_fake": [0.5, 0.4, 0.35, 0.3],
           "d_grad_norm": [1.0, 0.5, 0.2, 0.1], "g_grad_norm": [0.3, 0.2, 0.2, 0.1], "penalty": [0, 0.1, 0.1, 0.05]}


@pytest.fixture
def D():
    return mlp([2, 8, 1], seed=0)


def assert_png(path: Path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


def test_viz_never_imports_pyplot():
    code = "import sys, numgan.viz; assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_plot_samples_writes_a_png(tmp_path):
    fig = plot_samples(REAL, FAKE, MEANS, title="ring")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "ring" and ax.get_xlabel() == "$x_1$" and ax.get_aspect() == 1.0
    assert [len(c.get_offsets()) for c in ax.collections] == [200, 40, 8]
    path = save_figure(fig, tmp_path / "new" / "folder" / "samples.png")  # parents are created
    assert_png(path)


def test_plot_samples_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    assert plot_samples(REAL, None, ax=ax) is fig
    assert len(ax.collections) == 1
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got str"):
        plot_samples(REAL, FAKE, ax="left")
    with pytest.raises(ValueError, match=r"fake must have 2 columns, got shape \(40, 3\)"):
        plot_samples(REAL, np.zeros((40, 3), np.float32))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_plot_field_runs_for_every_objective(D, objective, tmp_path):
    fig = plot_field(D, FAKE, objective, real=REAL, resolution=30)
    ax, cbar_ax = fig.axes
    image = ax.get_images()[0].get_array()
    assert image.shape == (30, 30)
    if objective in ("minimax", "non_saturating", "seed_as_written"):
        assert "sigmoid" in cbar_ax.get_ylabel() and 0 <= image.min() and image.max() <= 1
    else:
        assert "raw score" in cbar_ax.get_ylabel()
    assert objective in ax.get_title()
    assert_png(save_figure(fig, tmp_path / f"{objective}.png"))


def test_heat_map_is_sigmoid_of_d_on_the_grid(D):
    bounds = (-2.0, 1.0, -1.0, 3.0)
    values = discriminator_map(D, bounds, resolution=4)
    corner = np.array([[-2.0, -1.0], [1.0, -1.0], [-2.0, 3.0]], dtype=np.float32)
    expected = stable_sigmoid(D(corner))[:, 0]
    np.testing.assert_allclose([values[0, 0], values[0, -1], values[-1, 0]], expected, rtol=1e-6)
    raw = discriminator_map(D, bounds, resolution=4, objective="wasserstein")
    np.testing.assert_allclose(stable_sigmoid(raw), values, rtol=1e-6)
    fig = plot_field(D, FAKE, bounds=bounds, resolution=4)
    np.testing.assert_array_equal(fig.axes[0].get_images()[0].get_array(), values)
    assert fig.axes[0].get_xlim() == (-2.0, 1.0)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_gradient_field_equals_finite_differences(objective):
    D = mlp([2, 8, 1], seed=0, dtype=np.float64)
    fake = np.random.default_rng(2).standard_normal((6, 2))
    field = generator_gradient_field(D, fake, objective)
    numerical = numerical_gradient(lambda x: generator_loss(D(x), objective)[0], fake.copy())
    assert field.shape == (6, 2) and np.abs(field).max() > 0
    assert rel_error(field, -numerical) < 1e-7


def test_plot_field_arrows_are_the_gradient_field_scaled(D):
    fig = plot_field(D, FAKE, "minimax", real=REAL)
    ax = fig.axes[0]
    quiver = next(c for c in ax.collections if isinstance(c, Quiver))
    arrows = np.stack([quiver.U, quiver.V], axis=1)
    field = generator_gradient_field(D, FAKE, "minimax").astype(np.float64)
    lengths = np.hypot(arrows[:, 0], arrows[:, 1])
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert lengths.max() == pytest.approx(0.08 * max(x1 - x0, y1 - y0), rel=1e-5)
    # one common positive factor: same directions, same relative lengths
    factor = lengths.max() / np.hypot(field[:, 0], field[:, 1]).max()
    np.testing.assert_allclose(arrows, factor * field, rtol=1e-4, atol=1e-6 * lengths.max())
    np.testing.assert_array_equal(quiver.get_offsets(), FAKE)


def test_plot_field_bounds_default_to_the_data(D):
    ax = plot_field(D, FAKE, real=REAL, resolution=10).axes[0]
    x0, x1 = ax.get_xlim()
    both = np.concatenate([FAKE, REAL])
    assert x0 < both[:, 0].min() and x1 > both[:, 0].max()
    assert x1 - x0 < 1.5 * np.ptp(both[:, 0])


def test_plot_field_argument_errors(D):
    with pytest.raises(TypeError, match="fake must have dtype float32 like the network, got float64"):
        plot_field(D, FAKE.astype(np.float64))
    with pytest.raises(TypeError, match="real must have dtype float32 like the network, got float64"):
        plot_field(D, FAKE, real=REAL.astype(np.float64))
    with pytest.raises(TypeError, match="D must be a numgan Sequential, got function"):
        plot_field(lambda x: x, FAKE)
    with pytest.raises(ValueError, match="objective must be one of .* got 'gan'"):
        plot_field(D, FAKE, "gan")
    with pytest.raises(ValueError, match=r"bounds must be \(xmin, xmax, ymin, ymax\) .* got \(1, 0, 0, 1\)"):
        plot_field(D, FAKE, bounds=(1, 0, 0, 1))
    with pytest.raises(ValueError, match="resolution must be an integer >= 2, got 1"):
        plot_field(D, FAKE, resolution=1)


def test_plot_history_has_three_panels(tmp_path):
    fig = plot_history(HISTORY)
    losses, outputs, norms = fig.axes
    assert [line.get_label() for line in losses.get_lines()] == ["D loss", "G loss", "penalty"]
    assert any(np.all(np.asarray(line.get_ydata()) == 0.5) for line in outputs.get_lines())  # the reference line
    assert norms.get_yscale() == "log"
    np.testing.assert_array_equal(losses.get_lines()[0].get_xdata(), HISTORY["step"])
    assert_png(save_figure(fig, tmp_path / "history.png"))


def test_plot_history_skips_missing_keys_and_ignores_unknown_ones():
    fig = plot_history({"d_loss": np.array([1.0, 0.9]), "g_loss": [0.7, 0.8], "lr": [1, 2, 3]})
    assert len(fig.axes) == 1
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), [0, 1])  # index without "step"
    fig = plot_history({"d_real": [0.6, 0.7], "d_fake": [0.4, 0.3], "d_grad_norm": [1.0, 0.1]})
    assert [ax.get_ylabel() for ax in fig.axes] == ["mean sigmoid(D)", "gradient norm"]


def lines_by_label(ax: Axes) -> dict:
    return {line.get_label(): np.asarray(line.get_ydata(), dtype=np.float64) for line in ax.get_lines()}


def test_plot_history_reads_p_real_and_p_fake_and_their_former_names():
    new = {"p_real": [0.6, 0.7, 0.8], "p_fake": [0.4, 0.3, 0.2]}
    old = {"d_real": [0.55, 0.65, 0.75], "d_fake": [0.45, 0.35, 0.25]}
    for history, expected in ((new, new), (old, {"p_real": old["d_real"], "p_fake": old["d_fake"]}),
                              ({**old, **new}, new)):        # both: the new names win
        (ax,) = plot_history(history).axes
        assert ax.get_ylabel() == "mean sigmoid(D)"
        lines = lines_by_label(ax)
        np.testing.assert_array_equal(lines["on real"], expected["p_real"])
        np.testing.assert_array_equal(lines["on generated"], expected["p_fake"])
    with pytest.raises(ValueError, match=r"history\['d_fake'\] must have the length of the other series \(3\)"):
        plot_history({"p_real": [0.6, 0.7, 0.8], "d_fake": [0.4, 0.3]})


def test_plot_history_carries_a_lazy_penalty_forward():
    nan = float("nan")
    history = {"step": [1, 2, 3, 4, 5, 6, 7], "d_loss": [1.0] * 7,
               "penalty": np.array([nan, 0.2, nan, nan, 0.5, nan, nan])}
    penalty = lines_by_label(plot_history(history).axes[0])["penalty"]
    np.testing.assert_array_equal(penalty, [nan, 0.2, 0.2, 0.2, 0.5, 0.5, 0.5])   # none before the first value
    assert np.isnan(history["penalty"][2])                                        # the history is left alone
    d_loss = lines_by_label(plot_history({"d_loss": [nan, 1.0, nan]}).axes[0])["D loss"]
    np.testing.assert_array_equal(d_loss, [nan, 1.0, nan])                       # other series as given


def test_plot_history_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_history(HISTORY, ax=ax) is fig
    assert len(ax.get_lines()) == 3  # losses only
    axes = Figure().subplots(3)
    assert plot_history(HISTORY, ax=axes) is axes[0].get_figure()
    with pytest.raises(ValueError, match=r"ax must be None, one Axes or 3 Axes"):
        plot_history(HISTORY, ax=axes[:2])


def test_plot_history_errors():
    with pytest.raises(ValueError, match=r"history\['g_loss'\] must have the length of the other series \(3\), got 2"):
        plot_history({"d_loss": [1, 2, 3], "g_loss": [1, 2]})
    with pytest.raises(ValueError, match="history must hold at least one of"):
        plot_history({"step": [1, 2]})
    with pytest.raises(TypeError, match="history must be a dict of lists, got list"):
        plot_history([1, 2, 3])


def test_save_figure_errors(tmp_path):
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure, got Axes"):
        save_figure(Figure().add_subplot(), tmp_path / "x.png")
    assert isinstance(Figure().add_subplot(), Axes)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        save_figure(Figure(), 3)


def test_training_gif_has_one_frame_per_snapshot(tmp_path):
    rng = np.random.default_rng(0)
    snapshots = [(step, (0.3 * rng.standard_normal((50, 2))).astype(np.float32)) for step in (0, 100, 200, 300, 400)]
    path = training_gif(snapshots, tmp_path / "gifs" / "train.gif", real=REAL, means=MEANS, fps=5)
    assert path.read_bytes()[:6] == b"GIF89a"
    with Image.open(path) as im:
        assert im.n_frames == 5
        assert im.info["duration"] == 200  # 1000 ms / 5 fps
        sizes = set()
        for k in range(im.n_frames):
            im.seek(k)
            sizes.add(im.size)
        assert len(sizes) == 1


def test_training_gif_errors(tmp_path):
    with pytest.raises(ValueError, match="snapshots must be a non-empty list"):
        training_gif([], tmp_path / "a.gif")
    with pytest.raises(ValueError, match=r"snapshots\[1\] must be a \(step, samples\) pair"):
        training_gif([(0, FAKE), FAKE], tmp_path / "a.gif")
    with pytest.raises(ValueError, match=r"snapshots\[0\]\[1\] \(samples\) must have 2 columns"):
        training_gif([(0, np.zeros((5, 3)))], tmp_path / "a.gif")
    with pytest.raises(ValueError, match="fps must be a positive number, got 0"):
        training_gif([(0, FAKE)], tmp_path / "a.gif", fps=0)


def test_tile_images_layout():
    from numgan.viz import tile_images
    images = np.arange(3 * 4, dtype=float).reshape(3, 4)       # three 2x2 images
    canvas = tile_images(images, (2, 2), nrow=2, pad=1)
    assert canvas.shape == (2 * 3 + 1, 2 * 3 + 1)
    np.testing.assert_array_equal(canvas[1:3, 1:3], [[0, 1], [2, 3]])     # first image, top left
    np.testing.assert_array_equal(canvas[1:3, 4:6], [[4, 5], [6, 7]])     # second, top right
    np.testing.assert_array_equal(canvas[4:6, 1:3], [[8, 9], [10, 11]])   # third, second row
    assert canvas[4:6, 4:6].max() == 0                                     # empty cell: the minimum
    with pytest.raises(ValueError, match=r"images must have shape \(N, 9\) or \(N, 3, 3\)"):
        tile_images(images, (3, 3))


def test_image_grid_png_and_gif(tmp_path):
    from PIL import Image

    from numgan.viz import image_grid_gif, plot_image_grid, save_figure
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, size=(20, 64))
    path = save_figure(plot_image_grid(images, (8, 8), nrow=5, title="t"), tmp_path / "grid.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    gif = image_grid_gif([(1, images), (5, images[::-1]), (9, images)], tmp_path / "g.gif", (8, 8), nrow=5)
    with Image.open(gif) as im:
        assert im.n_frames == 3
