"""The table of exercises: names, parts and points, where the code goes, hints in three levels.

An exercise is either a *package* exercise (its code goes into marked blocks
of ``numgan/``, between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) or
a *notebook* exercise (a marked function or class in a notebook cell; its
name starts with the notebook's number, ``"01.scale_layer"``). Each has:

* ``parts``: what is graded separately, each with its points;
* ``where``: ``"path:qualified.function"`` of every function that holds a
  marked block (the grader copies the files of these, and only these, from a
  submission);
* ``hints``: level 1 the contract (shapes, the cache, the docs section; the
  student edition's ``NotImplementedError`` shows this one), level 2 the key
  idea, level 3 the formula (``numgan-course hint NAME --level 3``);
* ``notebook``: the notebook in which the student does it (``docs/course.md``
  has the order);
* ``uses``: the other exercises whose code its self-check runs, so that a
  failure can say "it uses your dense_forward, which fails";
* ``task``: the group module of ``numgan.course.tasks`` (inputs and
  comparison), ``numgan.course.probes`` (running the student's code) and
  ``numgan.course.answers`` (the grader's references) that serve it.

This module imports only the standard library.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """A separately graded part of an exercise."""

    name: str
    points: int


@dataclass(frozen=True)
class Exercise:
    """One graded exercise (see the module docstring)."""

    name: str
    parts: tuple[Part, ...]
    where: tuple[str, ...]
    hints: tuple[str, str, str]
    notebook: str
    task: str
    uses: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        """The exercise's points: the sum of its parts'."""
        return sum(p.points for p in self.parts)

    @property
    def files(self) -> tuple[str, ...]:
        """The files (relative to the repository) that hold its marked blocks."""
        return tuple(dict.fromkeys(w.split(":", 1)[0] for w in self.where))

    @property
    def in_notebook(self) -> bool:
        """Whether the code goes into a notebook cell (not into the package)."""
        return self.files[0].endswith(".ipynb")

    def hint(self, level: int = 1) -> str:
        """The hint of ``level`` 1 (the contract), 2 (the key idea) or 3 (the formula)."""
        if level not in (1, 2, 3):
            raise ValueError(f"level must be 1, 2 or 3, got {level!r}")
        return self.hints[level - 1]


def _p(*parts: tuple[str, int]) -> tuple[Part, ...]:
    return tuple(Part(name, points) for name, points in parts)


NB01 = "notebooks/01_dense_layer_backprop.ipynb"
NB02 = "notebooks/02_activations_and_losses.ipynb"
NB03 = "notebooks/03_adam.ipynb"
NB04 = "notebooks/04_first_gan_2d.ipynb"
NB08 = "notebooks/08_seed_errata.ipynb"

_TABLE: tuple[Exercise, ...] = (
    # -- notebook 01: the dense layer ---------------------------------------------------------------
    Exercise("01.dense_forward", _p(("forward", 1)), (f"{NB01}:dense_forward",), (
        "dense_forward(x, W, b) takes x (N, D_in), W (D_in, D_out), b (D_out,) and returns (y, cache) with y "
        "(N, D_out); the cache is whatever dense_backward needs; see docs/backprop.md#dense",
        "one matrix product for the whole batch, the bias broadcast over the rows; keep x and W for backward",
        "y = x @ W + b, cache = (x, W)"), "01", "notebooks"),
    Exercise("01.dense_backward", _p(("dx", 1), ("dW and db", 1)), (f"{NB01}:dense_backward",), (
        "dense_backward(dy, cache) takes dy = dL/dy (N, D_out) and the cache of dense_forward, returns "
        "(dx, dW, db) of the shapes of x, W and b; see docs/backprop.md#dense",
        "write y_nj = sum_i x_ni W_ij + b_j, differentiate one entry, then write the sums as matrix products; "
        "b is added to every row, so its gradient sums over the rows",
        "dx = dy @ W.T, dW = x.T @ dy, db = dy.sum(axis=0)"), "01", "notebooks", ("01.dense_forward",)),
    Exercise("01.scale_layer", _p(("forward and backward", 1)), (f"{NB01}:Scale",), (
        "class Scale(dim) in notebook 01, section 8: y = x * s with one learnable vector params['s'] (dim,); "
        "forward(x) -> (y, cache); backward(dy, cache, *, param_grads=True) -> (dx, {'s': ds}), or (dx, {}) "
        "when param_grads is False; x and s left unchanged; see docs/backprop.md#notation-and-the-layer-contract",
        "each output column is its input column times one number; s is shared by every row of the batch",
        "y = x * s, dx = dy * s, ds = (dy * x).sum(axis=0)"), "01", "notebooks"),
    Exercise("dense_forward", _p(("forward", 1)), ("numgan/layers.py:Dense.forward",), (
        "Dense.forward(x) takes x (N, in_features) and returns (y, cache): y (N, out_features) in x's dtype, "
        "x left unchanged; backward reads the cache as x; see docs/backprop.md#dense",
        "one matrix product for the whole batch and the bias added to every row; the cache is the input itself",
        "y = x @ W + b, return (y, x)"), "01", "layers"),
    Exercise("dense_backward", _p(("dx", 1), ("dW and db", 1)), ("numgan/layers.py:Dense.backward",), (
        "Dense.backward(dy, cache, *, param_grads, out, input_grad) returns (dx, grads): dx (N, in_features) "
        "or None when input_grad is False; grads {'W', 'b'} shaped like the parameters, written into out when "
        "out is given, {} when param_grads is False; see docs/backprop.md#dense",
        "differentiate y_nj = sum_i x_ni W_ij + b_j for one entry and write the sums over the batch as matrix "
        "products; b is added to every row",
        "dx = dy @ W.T, dW = x.T @ dy, db = dy.sum(axis=0)"), "01", "layers", ("dense_forward",)),
    # -- notebook 02: activations and losses --------------------------------------------------------
    Exercise("leaky_relu", _p(("forward", 1), ("backward", 1)),
             ("numgan/layers.py:LeakyReLU.forward", "numgan/layers.py:LeakyReLU.backward"), (
        "LeakyReLU.forward(x) -> (y, cache) with y of x's shape and dtype and x unchanged; the cache is the "
        "slope (derivative(cache) returns it); backward(dy, cache) -> (dx, {}); nothing stored on the layer; "
        "see docs/backprop.md#leaky-relu",
        "the function is linear on each side of 0, with slope 1 or alpha: backward is one multiply by the slope",
        "y = x where x > 0 else alpha * x; slope s = 1 or alpha; dx = dy * s"), "02", "layers"),
    Exercise("sigmoid", _p(("stable values", 1), ("backward", 1)),
             ("numgan/layers.py:stable_sigmoid", "numgan/layers.py:Sigmoid.forward",
              "numgan/layers.py:Sigmoid.backward"), (
        "stable_sigmoid(x) returns 1 / (1 + exp(-x)) for any x without overflow warnings (x = -1000 included), "
        "in x's dtype; Sigmoid.forward -> (y, cache) with the cache y, backward(dy, cache) -> (dx, {}); "
        "see docs/backprop.md#sigmoid",
        "exp(-x) overflows for large negative x: rewrite the formula with e = exp(-|x|), which never exceeds 1; "
        "the derivative is a function of the output y alone",
        "e = exp(-|x|); 1 / (1 + e) for x >= 0 and e / (1 + e) else; cache y; dx = dy * y * (1 - y)"),
        "02", "layers"),
    Exercise("tanh_backward", _p(("backward", 1)), ("numgan/layers.py:Tanh.backward",), (
        "Tanh.backward(dy, cache) -> (dx, {}) with dx of dy's shape and dtype; the cache is what forward "
        "returned, the output y = tanh(x); see docs/backprop.md#tanh",
        "the derivative of tanh is a function of its output, which forward cached",
        "dx = dy * (1 - y**2) with y the cache"), "02", "layers"),
    Exercise("bce_with_logits", _p(("value", 1), ("gradient", 1)), ("numgan/losses.py:bce_with_logits",), (
        "bce_with_logits(logits, targets) -> (loss, dlogits): loss one float, the mean over all entries; dlogits "
        "of the logits' shape and dtype; no overflow at |s| = 1000; see "
        "docs/backprop.md#binary-cross-entropy-from-logits",
        "never take log(sigmoid(s)): write the loss with softplus and split |s| out so that exp only sees "
        "negative numbers; the gradient is the familiar (prediction - target) over the count",
        "l = max(s, 0) - s * y + log1p(exp(-|s|)); loss = mean(l); dL/ds = (sigmoid(s) - y) / n"),
        "02", "losses", ("sigmoid",)),
    Exercise("softmax_cross_entropy", _p(("value", 1), ("gradient", 1)),
             ("numgan/losses.py:softmax_cross_entropy",), (
        "softmax_cross_entropy(logits (N, C), labels (N,) ints) -> (loss, dlogits): the mean over rows, and "
        "dlogits (N, C) in the logits' dtype; logits unchanged; no overflow for logits of 1000; see "
        "docs/backprop.md#softmax-cross-entropy",
        "subtract each row's maximum before exponentiating (it cancels); the gradient is probabilities minus "
        "the one-hot labels",
        "p = softmax(s - max s); loss = mean(-log p[n, y_n]) = mean(logsumexp(s) - s[n, y_n]); "
        "dL/ds = (p - onehot(y)) / N"), "07", "losses"),
    Exercise("02.softplus", _p(("forward", 1), ("backward", 1)), (f"{NB02}:Softplus",), (
        "class Softplus in notebook 02, section 6: forward(x) -> (y, cache) with y = log(1 + exp(x)) for any x "
        "(x = +-1000 included) without an overflow warning; backward(dy, cache) -> (dx, {}); see "
        "docs/backprop.md#notation-and-the-layer-contract",
        "log(1 + exp(x)) overflows for large x: split out max(x, 0); the derivative of softplus is the sigmoid",
        "y = max(x, 0) + log1p(exp(-|x|)); dx = dy * sigmoid(x)"), "02", "notebooks"),
    # -- notebook 03: optimizers --------------------------------------------------------------------
    Exercise("sgd_momentum", _p(("momentum", 1), ("Nesterov", 1)), ("numgan/optim.py:SGD._update",), (
        "SGD._update(p, g, state) changes the array p in place (the network holds it); state['velocity'] is an "
        "array like p, zeros at the first step, kept between steps if you change it in place; self.momentum, "
        "self.nesterov, self.lr; see docs/adam.md#sgd-and-momentum",
        "a velocity accumulates the gradients with decay `momentum`; without momentum it is plain gradient "
        "descent; Nesterov steps along the current gradient plus the momentum step to come",
        "v = momentum * v + g (in place); p -= lr * v, or p -= lr * (g + momentum * v) with nesterov"),
        "03", "optim"),
    Exercise("03.my_adam", _p(("moments", 1), ("bias correction", 1)), (f"{NB03}:MyAdam",), (
        "class MyAdam(params, lr, betas, eps, correct) in notebook 03: the body of the loop of step(grads); "
        "update self.m[k], self.v[k] and the parameter p in place (self.t is the step number, 1 at the first); "
        "no bias correction when self.correct is False; see docs/adam.md#adam",
        "two moving averages per parameter, of the gradient and of its square, each divided by the weight it "
        "has gathered so far (1 - beta**t)",
        "m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g**2; p -= lr * (m / (1 - b1**t)) / "
        "(sqrt(v / (1 - b2**t)) + eps)"), "03", "notebooks"),
    Exercise("adam", _p(("moments", 1), ("bias correction", 1)), ("numgan/optim.py:Adam._update",), (
        "Adam._update(p, g, state) changes the array p in place; state['m'] and state['v'] are arrays like p "
        "(zeros at first), to change in place; self.t is the step number (1 at the first); weight_decay adds "
        "to g (leave the array g unchanged); see docs/adam.md#adam",
        "two exponential moving averages, of g and of g**2; early on they are biased towards 0, so divide "
        "each by the weight it has gathered",
        "g = g + weight_decay * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g**2; "
        "p -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1**t), v_hat = v / (1 - b2**t)"),
        "03", "optim"),
    # -- notebook 04: the first GAN -----------------------------------------------------------------
    Exercise("non_saturating", _p(("D loss", 1), ("G loss", 1)),
             ("numgan/objectives.py:cross_entropy_discriminator",
              "numgan/objectives.py:non_saturating_generator"), (
        "cross_entropy_discriminator(s_r, s_f, real_target) takes D's raw scores (N, 1) and returns (loss, ds_r, "
        "ds_f), the real rows' target being real_target (0.9: label smoothing); non_saturating_generator(s_f) "
        "returns (loss, ds_f), finite and not vanishing at s_f = -1000; use bce_with_logits; see "
        "docs/objectives.md#non-saturating",
        "D classifies real as 1 (or the smoothed target) and fake as 0; G does not minimise D's loss on the "
        "fakes, which saturates, but maximises log D(G(z))",
        "L_D = bce(s_r, target) + bce(s_f, 0); L_G = bce(s_f, 1) = -E[log sigmoid(s_f)]"),
        "04", "gan", ("sigmoid", "bce_with_logits")),
    Exercise("gan_step", _p(("D step", 2), ("G step", 2)),
             ("numgan/gan.py:GAN.discriminator_loss_gradients", "numgan/gan.py:GAN.generator_loss_gradients"), (
        "discriminator_loss_gradients(x, labels, out) -> (loss, grads, s_real, s_fake) for x = n real rows "
        "then n fake rows; generator_loss_gradients(z, rng, labels, out) -> (loss, grads), the instance noise "
        "drawn with self._with_instance_noise(fake, rng); D sees its rows with the one-hot labels joined "
        "(conditional) and packed (self._with_labels, self._packed); grads laid out like the network's params, "
        "into out when given; nothing is updated; see docs/objectives.md#the-game",
        "D: one forward pass over real and fake together, the objective's loss, one backward pass. G: "
        "through G and then a frozen D, back through D without its weight gradients, then through G",
        "D: s = D(x); loss, ds_r, ds_f = discriminator_loss(s_r, s_f, objective, 1 - smoothing); "
        "grads = D.backward(concat(ds_r, ds_f)). G: x = G(z) + noise; ds = dL_G/ds; dx = D.backward(ds, "
        "param_grads=False); grads = G.backward(dx[:, :data_dim])"),
        "04", "gan", ("dense_forward", "dense_backward", "sigmoid", "tanh_backward", "bce_with_logits",
                      "non_saturating")),
    Exercise("04.hand_step", _p(("D gradients", 1), ("G gradients", 1)), (f"{NB04}:hand_step",), (
        "hand_step(G, D, opt_G, opt_D, x_real, z_D, z_G) in notebook 04 -> (loss_D, grads_D, loss_G, grads_G): "
        "D's half on x_real and G(z_D), then G's half on G(z_G), non-saturating, each ending with one "
        "opt.step(grads) of its player; see the docstring and docs/objectives.md#the-game",
        "D: one forward pass over real and fake stacked, the loss's gradients with respect to the scores, one "
        "backward pass. G: forward through G and D, back through a frozen D to the samples, then through G",
        "D: s = D(concat(x_real, G(z_D))); L_D, ds_r, ds_f = discriminator_loss(s_r, s_f); grads_D = "
        "D.backward(concat(ds_r, ds_f)). G: s_f = D(G(z_G)); L_G, ds_f = generator_loss(s_f); dx = "
        "D.backward(ds_f, param_grads=False); grads_G = G.backward(dx)"),
        "04", "notebooks", ("dense_forward", "dense_backward", "leaky_relu", "bce_with_logits", "non_saturating")),
    Exercise("04.arrows", _p(("finite differences", 1)), (f"{NB04}:arrows",), (
        "arrows(loss, points, h) in notebook 04 returns an (N, 2) array: row i is minus the gradient of point "
        "i's loss, by centred finite differences; loss maps points (N, 2) to one number per point (N,); points "
        "left unchanged; see docs/backprop.md#checking-gradients",
        "move one coordinate by +h and -h, the others fixed, and divide the change of the loss by 2h",
        "a[:, k] = -(loss(p + h e_k) - loss(p - h e_k)) / (2 h)"), "04", "notebooks"),
    # -- notebooks 05 to 07: penalties, the classifier ----------------------------------------------
    Exercise("r1_penalty", _p(("sweep 1 (leaky ReLU D)", 1), ("sweep 2, f'' terms (tanh D)", 1)),
             ("numgan/penalties.py:penalty_weight_gradients",), (
        "penalty_weight_gradients(D, dP_dg, cache, deltas) returns dP/dparams as a FlatParams like D.params "
        "(D.params.zeros_like()); deltas[k] = dD/du_k from input_gradient; two blocks: sweep 1's step for layer "
        "k, and sweep 2; layers give derivative(cache) and second_derivative(cache) (None: zero); see "
        "docs/gradient-penalty.md#sweep-1-forward-through-the-backward-pass",
        "differentiate the backward pass itself: sweep forward through it carrying a = dP/d(delta); "
        "activations with f'' != 0 inject adjoints that a second, ordinary backward sweep carries down",
        "Dense k: dW += a.T @ deltas[k+1], a = a @ W; activation: injected[k] = a * deltas[k+1] * f''(u_k), "
        "a = a * f'(u_k); then backward from the top injection, adding injected[k] on the way"),
        "05", "penalties", ("dense_forward", "dense_backward", "leaky_relu", "tanh_backward")),
    Exercise("wgan_gp", _p(("dP/dg", 1)), ("numgan/penalties.py:wgan_gp_penalty",), (
        "in wgan_gp_penalty: the value P (a float) and dP_dg (N, D) from g (N, D), the input gradients at the "
        "interpolates (n = N rows); penalty_weight_gradients turns dP_dg into dP/dparams; see "
        "docs/gradient-penalty.md#wgan-gp",
        "P is a mean over rows of (||g_i|| - 1)**2; the derivative of a norm is the unit vector; at g_i = 0 "
        "use 0",
        "P = weight * mean((||g_i|| - 1)**2); dP/dg_i = 2 weight (||g_i|| - 1) g_i / (||g_i|| N)"),
        "05", "penalties", ("dense_forward", "dense_backward", "leaky_relu", "r1_penalty")),
    Exercise("classifier_training", _p(("training loop", 2)), ("numgan/classifier.py:train_classifier",), (
        "the loop of train_classifier: `steps` updates on batches of `batch` rows taken in order from a "
        "permutation rng.permutation(n), drawn at the start and again (pos = 0) whenever the next batch would "
        "run past the end (the short rest is skipped); each: forward, softmax_cross_entropy, backward, "
        "opt.lr at the cosine schedule of the docstring, opt.step(grads); `loss` keeps the last batch's loss; "
        "see docs/images.md#the-evaluation-classifier",
        "the same seed must give the same classifier: take every random number from rng, in the order of the "
        "contract; the network's backward gives the gradients that the optimizer's step takes",
        "order, pos = rng.permutation(n), 0; for t in range(steps): if pos + batch > n: redraw order, pos = 0; "
        "idx = order[pos:pos + batch]; pos += batch; s, c = net.forward(images[idx]); loss, ds = "
        "softmax_cross_entropy(s, labels[idx]); _, g = net.backward(ds, c); opt.lr = lr (1 + cos(pi t / steps)) "
        "/ 2; opt.step(g)"), "07", "classifier",
        ("dense_forward", "dense_backward", "leaky_relu", "softmax_cross_entropy", "adam")),
    # -- notebook 10: convolution by hand -------------------------------------------------------------
    Exercise("conv_forward", _p(("stride 1", 1), ("stride 2 and padding", 1)),
             ("numgan/conv.py:im2col", "numgan/conv.py:Conv2d.linear_forward"), (
        "im2col(xp, kernel_size, stride) returns every k x k window of the padded xp (N, C, H, W) as a row of an "
        "(N*H_out*W_out, C*k*k) array, rows in (n, i, j) order and columns in (c, u, v) order; "
        "Conv2d.linear_forward(x) pads x (N, C_in, H, W) by self.padding and returns (y, (cols, x.shape)) with y "
        "(N, C_out, H_out, W_out) in x's dtype, without the bias (forward adds it); x unchanged; see "
        "docs/convolution.md#im2col-the-forward-pass-as-one-matrix-product",
        "numpy.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3)) gives every window without a "
        "copy; keep every stride-th one, put the axes in the order (n, i, j, c, u, v) and reshape: then the whole "
        "layer is one matrix product with the kernel flattened to (C_out, C_in*k*k)",
        "windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]; cols = windows.transpose(0, 2, "
        "3, 1, 4, 5).reshape(N*H_out*W_out, C*k*k); y = cols @ W.reshape(C_out, -1).T, reshaped to (N, H_out, "
        "W_out, C_out) and transposed to NCHW"), "10", "conv"),
    Exercise("conv_backward", _p(("dx", 1), ("dW", 1), ("db", 1)), ("numgan/conv.py:Conv2d.backward",), (
        "Conv2d.backward(dy, cache, *, param_grads, out, input_grad) with dy (N, C_out, H_out, W_out) and the "
        "cache (cols, x.shape) of forward returns (dx, grads): dx of x's shape, or None when input_grad is "
        "False; grads {'W', 'b'} shaped like the parameters, written into out when out is given, {} when "
        "param_grads is False; col2im_t(cols.T, padded_shape, k, s) adds the rows back onto the image; see "
        "docs/convolution.md#the-backward-pass",
        "the product y = cols @ W2.T is a dense layer on the patches, so its gradients are the dense layer's; "
        "each pixel was copied into several windows, so its gradient is the sum over its copies (col2im), and "
        "the padding's gradient is cut off; written out, dx is the full convolution of dy, dilated by the "
        "stride, with the flipped kernel",
        "dY = dy laid out as (N*H_out*W_out, C_out); dcols = dY @ W.reshape(C_out, -1); dx = col2im_t(dcols.T, "
        "(N, C_in, H + 2p, W + 2p), k, s)[:, :, p:p + H, p:p + W]; dW = (dY.T @ cols).reshape(W.shape); "
        "db = dy.sum(axis=(0, 2, 3))"), "10", "conv"),
    # -- notebook 08: the seed's errata ---------------------------------------------------------------
    Exercise("08.extragradient", _p(("extrapolation step", 1)), (f"{NB08}:extragradient_step",), (
        "extragradient_step(x, y, lr, grad) in notebook 08 returns the new (x, y) of one extragradient step "
        "on min_x max_y f, with grad(x, y) -> (df/dx, df/dy): x steps down, y steps up; x and y left "
        "unchanged; see the markdown cell above it",
        "first a look-ahead step, then the real step from the start point with the gradient taken at the "
        "look-ahead point",
        "(gx, gy) = grad(x, y); x_h = x - lr gx, y_h = y + lr gy; (gx, gy) = grad(x_h, y_h); "
        "return x - lr gx, y + lr gy"), "08", "notebooks"),
)

#: every exercise, in the order of the notebooks that teach them (the order students do them in)
EXERCISES: tuple[Exercise, ...] = tuple(sorted(_TABLE, key=lambda ex: ex.notebook))
EXERCISES_BY_NAME: dict[str, Exercise] = {ex.name: ex for ex in EXERCISES}


def exercise(name: str) -> Exercise:
    """The exercise called ``name``; ``ValueError`` listing the names otherwise."""
    if not isinstance(name, str) or name not in EXERCISES_BY_NAME:
        raise ValueError(f"exercise must be one of {list(EXERCISES_BY_NAME)}, got {name!r}")
    return EXERCISES_BY_NAME[name]


def exercise_for(location: str) -> Exercise | None:
    """The exercise whose ``where`` lists ``location`` (``"path:function"``), if any."""
    for ex in EXERCISES:
        if location in ex.where:
            return ex
    return None


def not_done_message(ex: Exercise) -> str:
    """The ``NotImplementedError`` text of an unfinished block: the exercise and its level-1 hint."""
    return f"Exercise {ex.name}: {ex.hint(1)} (more: numgan-course hint {ex.name} --level 2)"
