"""The live view: a callback redrawing every k steps, a panel whose controls do exactly what they say,
and a fallback without ipywidgets."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import AxesImage
from matplotlib.quiver import Quiver

from numgan import mlp
from numgan.data import ring
from numgan.gan import GAN
from numgan.train import fit
from numgan.viz import generator_gradient_field, plot_field
from numgan.viz import live
from numgan.viz.live import LivePanel, LiveView, compress_arrows, options_for, panel

REAL = ring(100, std=0.05, rng=0)
SMALL = {"resolution": 8, "dpi": 30}          # cheap pictures: the tests look at numbers, not pixels


def sampler(n, rng):
    return ring(n, std=0.05, rng=rng)


def make_gan(**options):
    rng = np.random.default_rng(0)
    G = mlp([2, 16, 2], activation="leaky_relu", seed=rng)
    D = mlp([2, 16, 1], activation="leaky_relu", seed=rng)
    return GAN(G, D, **{"g_lr": 1e-3, "d_lr": 1e-3, **options})


def make_panel(**kwargs):
    pytest.importorskip("ipywidgets")
    return panel(make_gan(**kwargs.pop("options", {})), sampler, real=REAL, batch_size=32,
                 **{"k": 5, **SMALL, **kwargs})


@pytest.fixture
def no_pictures(monkeypatch):
    """Drawing replaced by a note of the step drawn: the panel's state tests run in milliseconds, not seconds."""
    def draw(self, gan, caption=None):
        self.steps_drawn.append(gan.step)
        self._png = b"\x89PNG not drawn"
        return self.figure
    monkeypatch.setattr(LiveView, "draw", draw)


def params(gan):
    return gan.G.flat_params.copy(), gan.D.flat_params.copy()


def quiver_of(fig):
    (q,) = [c for ax in fig.axes for c in ax.collections if isinstance(c, Quiver)]
    return q


# -- the callback ------------------------------------------------------------------------------

def test_the_callback_redraws_every_k_steps_and_only_then():
    view = LiveView(REAL, every=3, n=20, **SMALL)
    gan = make_gan()
    fit(gan, sampler, 10, 32, rng=0, progress=False, callbacks=[view])
    assert view.steps_drawn == [3, 6, 9]
    assert view.figure._suptitle.get_text().startswith("step 9: L_D ")
    fit(gan, sampler, 12, 32, rng=1, progress=False, callbacks=[view])
    assert view.steps_drawn == [3, 6, 9, 12]


def test_the_figure_shows_the_samples_ds_map_and_gs_exact_directions():
    view = LiveView(REAL, every=1, n=20, seed=3, **SMALL)
    gan = make_gan()
    fig = view.draw(gan)
    fake = gan.generate(view.z, use_ema=False)
    left, right = fig.axes[0], fig.axes[1]
    assert np.array_equal(left.collections[1].get_offsets(), fake)          # the purple dots are G(z)
    assert any(isinstance(im, AxesImage) for im in right.get_images())      # D's heat map
    q = quiver_of(fig)
    field = generator_gradient_field(gan.D, fake)
    drawn = np.stack([q.U, q.V], axis=1)
    cosine = (drawn * field).sum(1) / np.linalg.norm(drawn, axis=1) / np.linalg.norm(field, axis=1)
    assert np.allclose(cosine, 1.0, atol=1e-5)                              # every arrow along -dL_G/dx
    assert (left.get_xlim(), left.get_ylim()) == (right.get_xlim(), right.get_ylim())
    before = fake.copy()
    view.draw(gan)
    assert np.array_equal(gan.generate(view.z, use_ema=False), before)      # the same z in every frame


def test_compress_arrows_keeps_directions_and_the_longest_and_lifts_the_short_ones(tmp_path):
    D = mlp([2, 8, 1], seed=0)
    fake = (2 * np.random.default_rng(1).standard_normal((50, 2))).astype(np.float32)
    fig = plot_field(D, fake, resolution=8)
    q = quiver_of(fig)
    u, v = np.array(q.U, np.float64), np.array(q.V, np.float64)
    compress_arrows(fig.axes[0])
    u2, v2 = np.array(q.U, np.float64), np.array(q.V, np.float64)
    length, length2 = np.hypot(u, v), np.hypot(u2, v2)
    assert np.isclose(length2.max(), length.max())
    assert np.allclose(length2 / length2.max(), np.sqrt(length / length.max()))
    assert np.allclose(u2 * v - v2 * u, 0, atol=1e-9 * length.max() ** 2)   # parallel...
    assert np.all(u2 * u + v2 * v > 0)                                      # ...and the same way
    with pytest.raises(ValueError, match="no arrows"):
        compress_arrows(fig.add_subplot(3, 3, 9))


def test_in_ipython_the_first_drawing_displays_and_the_next_ones_update_it(monkeypatch):
    calls = []

    class Handle:
        def update(self, image):
            calls.append(("update", image.data))

    class FakeDisplay:
        @staticmethod
        def Image(data, format):
            assert format == "png" and data[:4] == b"\x89PNG"
            return type("Image", (), {"data": data})()

        @staticmethod
        def display(image, display_id):
            assert display_id is True
            calls.append(("display", image.data))
            return Handle()

    monkeypatch.setattr(live, "_display_module", lambda: FakeDisplay)
    view = LiveView(REAL, every=2, n=10, **SMALL)
    gan = make_gan()
    fit(gan, sampler, 6, 32, rng=0, progress=False, callbacks=[view])
    assert [kind for kind, _ in calls] == ["display", "update", "update"]
    assert calls[-1][1] == view.png()
    LiveView(REAL, show=False, **SMALL).draw(gan)
    assert len(calls) == 3


def test_outside_ipython_nothing_is_displayed_and_the_view_checks_its_inputs():
    assert live._display_module() is None
    with pytest.raises(ValueError, match="real"):
        LiveView(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="every"):
        LiveView(REAL, every=0)
    wide = GAN(mlp([2, 8, 3], seed=0), mlp([3, 8, 1], seed=1))
    with pytest.raises(ValueError, match="data_dim 2, pack 1, no classes; got data_dim 3"):
        LiveView(REAL, **SMALL).draw(wide)


# -- the panel ---------------------------------------------------------------------------------

def test_d_step_changes_only_d_and_g_step_only_g(no_pictures):
    p = make_panel()
    G0, D0 = params(p.gan)
    p.widgets["D step"].click()
    G1, D1 = params(p.gan)
    assert np.array_equal(G1, G0) and not np.array_equal(D1, D0)
    assert (p.gan.step, p.d_updates, p.g_updates, p.gan.opt_D.t, p.gan.opt_G.t) == (0, 1, 0, 1, 0)
    p.widgets["G step"].click()
    G2, D2 = params(p.gan)
    assert np.array_equal(D2, D1) and not np.array_equal(G2, G1)
    assert (p.gan.step, p.d_updates, p.g_updates, p.gan.opt_D.t, p.gan.opt_G.t) == (0, 1, 1, 1, 1)
    assert "(1 D, 1 G updates)" in p.widgets["status"].value
    assert p.view.steps_drawn == [0, 0, 0]                  # the start, then one drawing per click


def test_d_step_is_the_gans_discriminator_step_on_the_panels_random_stream(no_pictures):
    p = make_panel(seed=7)
    twin = make_gan()
    rng = np.random.default_rng(7)
    x = sampler(32, rng)
    expected = twin.discriminator_step(x, rng)
    record = p.d_step()
    assert record == expected and np.array_equal(p.gan.D.flat_params, twin.D.flat_params)


def test_run_k_steps_trains_k_whole_steps(no_pictures):
    p = make_panel(k=4, options={"d_steps": 2})
    p.widgets["run k steps"].click()
    assert (p.gan.step, p.d_updates, p.g_updates) == (4, 8, 4)
    assert p.widgets["run k steps"].description == "run 4 steps"
    p.run(3)
    assert p.gan.step == 7


def test_reset_restores_the_start_and_replays_the_same_run(no_pictures):
    p = make_panel(options={"ema": 0.9})
    start = params(p.gan)
    ema0 = p.gan.G_ema.flat_params.copy()
    p.d_step(); p.g_step(); p.run()
    after = params(p.gan)
    p.widgets["reset"].click()
    assert all(np.array_equal(a, b) for a, b in zip(params(p.gan), start))
    assert np.array_equal(p.gan.G_ema.flat_params, ema0)
    assert (p.gan.step, p.d_updates, p.g_updates, p.gan.opt_D.t) == (0, 0, 0, 0)
    p.d_step(); p.g_step(); p.run()
    assert all(np.array_equal(a, b) for a, b in zip(params(p.gan), after))


def test_the_learning_rate_sliders_set_the_step_size_used(no_pictures):
    """Adam's first step moves every parameter with a nonzero gradient by lr (m_hat / sqrt(v_hat) = +-1)."""
    p = make_panel()
    p.widgets["d_lr"].value = 1e-2
    assert p.gan.opt_D.lr == pytest.approx(1e-2) and p.gan.opt_G.lr == pytest.approx(1e-3)
    D0 = p.gan.D.flat_params.copy()
    p.d_step()
    assert np.abs(p.gan.D.flat_params - D0).max() == pytest.approx(1e-2, rel=1e-3)
    p.widgets["g_lr"].value = 1e-4
    G0 = p.gan.G.flat_params.copy()
    p.g_step()
    assert np.abs(p.gan.G.flat_params - G0).max() == pytest.approx(1e-4, rel=1e-3)
    p.reset()                                             # reset keeps the rates chosen
    assert (p.gan.opt_G.lr, p.gan.opt_D.lr) == pytest.approx((1e-4, 1e-2))
    assert "lr G 1.0e-04, D 1.0e-02" in p.caption()


def test_the_objective_and_penalty_dropdowns_rebuild_the_gan_over_the_same_weights(no_pictures):
    p = make_panel(options={"penalty": "r1", "penalty_weight": 0.1})
    p.run(2)
    G0, D0 = params(p.gan)
    p.widgets["objective"].value = "hinge"
    c = p.gan.config
    assert (c.objective, c.penalty, c.penalty_weight, p.gan.step) == ("hinge", "r1", 0.1, 2)
    assert all(np.array_equal(a, b) for a, b in zip(params(p.gan), (G0, D0)))
    p.widgets["penalty"].value = "wgan_gp"
    assert (p.gan.config.penalty, p.gan.config.penalty_weight) == ("wgan_gp", 10.0)
    p.widgets["penalty"].value = "none"
    assert p.gan.config.penalty is None
    p.widgets["objective"].value = "wasserstein"
    assert p.gan.config.clip == 0.01
    p.widgets["objective"].value = "wasserstein_gp"          # takes its penalty, and the drop-down shows it
    assert p.gan.config.penalty == "wgan_gp" and p.widgets["penalty"].value == "wgan_gp"
    assert p.gan.config.clip is None
    p.widgets["penalty"].value = "r1"                        # refused: said in the status line, choice undone
    assert "wasserstein_gp uses the WGAN-GP penalty" in p.widgets["status"].value
    assert p.gan.config.penalty == "wgan_gp" and p.widgets["penalty"].value == "wgan_gp"
    p.widgets["objective"].value = "non_saturating"
    p.widgets["penalty"].value = "r1"                        # the starting penalty keeps its weight
    assert (p.gan.config.penalty, p.gan.config.penalty_weight) == ("r1", 0.1)
    p.widgets["objective"].value = "wasserstein_gp"          # brings its penalty, in place of R1
    assert p.gan.config.penalty == "wgan_gp" and p.widgets["penalty"].value == "wgan_gp"
    p.widgets["objective"].value = "non_saturating"
    p.widgets["penalty"].value = "r1"
    p.d_step()
    assert np.isfinite(p.record["penalty"])


def test_options_for_follows_the_recipes_policy():
    base = make_gan(objective="non_saturating", label_smoothing=0.1).config
    assert options_for(base, "least_squares", None, 1e-3, 1e-3).label_smoothing == 0.0
    assert options_for(base, "minimax", None, 1e-3, 1e-3).label_smoothing == 0.1
    assert options_for(base, "non_saturating", None, 2e-3, 3e-4).g_lr == 2e-3
    with pytest.raises(ValueError, match="objective must be one of"):
        options_for(base, "nope", None, 1e-3, 1e-3)
    with pytest.raises(ValueError, match="penalty must be one of"):
        options_for(base, "hinge", "l2", 1e-3, 1e-3)
    with pytest.raises(ValueError, match="g_lr must be a positive number"):
        options_for(base, "hinge", None, 0.0, 1e-3)


def test_the_panel_displays_the_widgets_with_a_picture_for_viewers_without_them():
    p = make_panel()
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"].startswith("iVBORw0KGgo")         # base64 of the PNG signature
    assert bytes(p.widgets["image"].value) == p.view.png()
    p.d_step()
    assert bytes(p.widgets["image"].value) == p.view.png()


def test_without_ipywidgets_the_panel_says_so_in_one_line_and_redraws_plainly(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)          # import ipywidgets now fails
    shown = []
    monkeypatch.setattr(LiveView, "_display", lambda self: shown.append(self.steps_drawn[-1]))
    p = panel(make_gan(), sampler, real=REAL, k=3, batch_size=32, **SMALL)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "ipywidgets is not installed" in out
    assert isinstance(p, LivePanel) and p.widgets is None and p.box is None
    G0, D0 = params(p.gan)
    p.d_step()
    assert np.array_equal(p.gan.G.flat_params, G0) and not np.array_equal(p.gan.D.flat_params, D0)
    p.run()
    assert shown == [0, 0, 3]
    assert set(p._repr_mimebundle_()) == {"text/plain", "image/png"}


def test_importing_numgan_viz_imports_neither_ipython_nor_ipywidgets():
    code = ("import sys, numgan.viz.live; bad = {'IPython', 'ipywidgets'} & set(sys.modules); "
            "assert not bad, bad")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


def test_the_panel_names_a_bad_seed_an_absurd_batch_and_data_off_the_plane(no_pictures):
    for seed, error in ((-1, ValueError), ("x", TypeError), (1.5, TypeError)):
        with pytest.raises(error, match="seed must be an integer >= 0"):
            make_panel(seed=seed)
    with pytest.raises(ValueError, match="batch_size must be at most 100000"):
        LivePanel(make_gan(), sampler, real=REAL, batch_size=10 ** 9, show=False)
    with pytest.raises(ValueError, match=r"data must give points of the plane, 2 columns, got batches of shape \(500, 3\)"):
        LivePanel(make_gan(), np.zeros((100, 3), np.float32), show=False)
