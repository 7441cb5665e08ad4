"""Pictures of a GAN at work: samples, D's field with G's gradients, training curves, animations.

* :mod:`numgan.viz.plane`: the 2-D plane: ``plot_samples``, ``discriminator_map``,
  ``generator_gradient_field`` and ``plot_field`` (D's heat map with G's gradient field);
* :mod:`numgan.viz.history`: training curves, ``plot_history`` (panels ``HISTORY_PANELS``);
* :mod:`numgan.viz.images`: image grids and animations: ``tile_images``, ``plot_image_grid``,
  ``image_grid_gif`` and ``training_gif`` (generated 2-D samples over training);
* :mod:`numgan.viz.live`: watching a 2-D GAN train, GAN Lab style: ``LiveView`` (a callback of
  ``fit`` redrawing samples, D's heat map and G's arrows in Jupyter), ``panel`` (buttons and
  sliders, ipywidgets), ``LivePanel`` and ``compress_arrows``;
* ``numgan/viz/_figure.py``: what they share: ``save_figure``, which writes a Figure as a PNG,
  and the colours ``REAL_COLOR``, ``FAKE_COLOR`` and ``FIELD_CMAP``.

Figures are built from ``matplotlib.figure.Figure`` directly, never through
pyplot: no global state, no window, nothing to close, and the same code runs on
a headless machine or in a notebook (a Figure displays itself there). Each
plotting function takes an optional ``ax`` to draw into an existing figure and
returns the Figure; ``save_figure`` writes it as a PNG.

Colours follow GAN Lab (Kahng et al., 2019): real data green, generated
samples purple, and D's belief that a point is real from purple (fake) to
green (real).

Every name is re-exported here (``from numgan.viz import plot_samples``).
"""
from ._figure import FAKE_COLOR, FIELD_CMAP, REAL_COLOR, save_figure
from .history import HISTORY_PANELS, plot_history
from .images import image_grid_gif, plot_image_grid, tile_images, training_gif
from .live import LivePanel, LiveView, compress_arrows, panel
from .plane import discriminator_map, generator_gradient_field, plot_field, plot_samples

__all__ = [
    "plot_samples", "generator_gradient_field", "discriminator_map", "plot_field",
    "plot_history", "HISTORY_PANELS",
    "tile_images", "plot_image_grid", "image_grid_gif", "training_gif",
    "save_figure", "REAL_COLOR", "FAKE_COLOR", "FIELD_CMAP",
    "LiveView", "LivePanel", "panel", "compress_arrows",
]
