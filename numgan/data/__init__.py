"""Data for numgan, all local: nothing is downloaded at run time.

* :mod:`numgan.data.mixtures`: 2-D Gaussian mixtures (``ring``, ``grid``, ``spiral``, ``two_moons``),
  the test beds for mode collapse;
* :mod:`numgan.data.images`: images that ship with the package, ``load_digits`` (UCI digits 8x8)
  and ``load_mnist`` (5,000 MNIST digits 28x28), each with a fixed train/test split;
* :mod:`numgan.data.idx`: the IDX format of MNIST and Fashion-MNIST (``load_idx``, ``save_idx``)
  and ``load_fashion_mnist``, which reads the files of Debian's ``dataset-fashion-mnist``;
* :mod:`numgan.data.image_sets`: ``load_images(name)``, any of the image sets by name as flat rows
  in ``[-1, 1]``, and their shapes ``IMAGE_SHAPES``.
* :mod:`numgan.data.user_files`: ``load_data_file(path)``, your own points (``.npy``, ``.npz``,
  ``.csv``) or folder of grey PNG images, checked, with the mapping they train through;
* :mod:`numgan.data.standardise`: ``Standardiser``, the per-feature map ``(x - shift) / scale`` and back.

Sources and licences of the bundled files: ``numgan/data/README.md``.
"""
from .idx import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, load_fashion_mnist, load_idx, save_idx
from .image_sets import IMAGE_SHAPES, load_images
from .images import SCALES, load_digits, load_mnist
from .mixtures import (MIXTURES, RngLike, as_rng, default_std, grid, mixture, ring, sample_mixture, spiral,
                       two_moons)
from .standardise import Standardiser
from .user_files import UserData, load_data_file

__all__ = [
    "ring", "grid", "spiral", "two_moons", "MIXTURES", "mixture", "default_std", "sample_mixture",
    "as_rng", "RngLike",
    "load_digits", "load_mnist", "SCALES", "load_images", "IMAGE_SHAPES",
    "load_idx", "save_idx", "load_fashion_mnist", "FASHION_MNIST_DIR", "FASHION_MNIST_CLASSES",
    "Standardiser", "UserData", "load_data_file",
]
