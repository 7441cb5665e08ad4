"""Sample-quality metrics: how well generated samples match the data.

* :mod:`numgan.metrics.modes`: the 2-D mode metrics, for the Gaussian mixtures of
  :mod:`numgan.data` where the modes are known: ``nearest_mean``, ``reverse_kl_uniform``
  and ``mode_coverage`` (modes covered, fraction of high-quality samples, reverse KL;
  VEEGAN and PacGAN's mode-collapse numbers);
* :mod:`numgan.metrics.images`: the image metrics, on the outputs and features of a
  classifier trained on the real data (:mod:`numgan.classifier`): ``classifier_score``,
  ``class_histogram``, ``class_reverse_kl``, ``sqrtm_psd``, ``frechet_distance``,
  ``precision_recall``, ``density_coverage``, ``conditional_accuracy`` and
  ``image_metrics``, which computes them all.

Every name is re-exported here (``from numgan.metrics import mode_coverage``). The
constants ``BLOCK_ENTRIES`` and ``ROUND_OFF`` are read by the functions of
:mod:`numgan.metrics.images`: to change one, set it there, not on this package.
"""
from .images import (BLOCK_ENTRIES, ROUND_OFF, class_histogram, class_reverse_kl, classifier_score,
                     conditional_accuracy, density_coverage, frechet_distance, image_metrics, precision_recall,
                     sqrtm_psd)
from .modes import mode_coverage, nearest_mean, reverse_kl_uniform

__all__ = [
    "nearest_mean", "reverse_kl_uniform", "mode_coverage",
    "classifier_score", "class_histogram", "class_reverse_kl", "sqrtm_psd", "frechet_distance",
    "precision_recall", "density_coverage", "conditional_accuracy", "image_metrics",
    "BLOCK_ENTRIES", "ROUND_OFF",
]
