"""Conv2d and ConvTranspose2d: finite differences of every gradient (float64), the adjoint identity, shapes, errors."""
import numpy as np
import pytest

from numgan import Conv2d, ConvTranspose2d, Dense, Flatten, LeakyReLU, Reshape, Sequential, check_layer, check_network
from numgan.conv import col2im, conv_output_size, conv_transpose_output_size, im2col

TOL = 1e-6

# (kernel_size, stride, padding): stride 1 and 2 (and 3), padding 0, 1 and 2, a 1x1 kernel, a kernel
# smaller than the stride (windows that skip pixels) and one larger than the padded input's stride pattern
CASES = [(3, 1, 0), (3, 1, 1), (4, 2, 1), (3, 2, 0), (1, 1, 0), (2, 3, 1), (5, 2, 2)]


def with_bias(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)   # so db is exercised fully
    return layer


@pytest.mark.parametrize("k, s, p", CASES)
def test_conv2d_gradients_by_finite_differences(rng, k, s, p):
    layer = with_bias(Conv2d(3, 2, k, s, p, dtype=np.float64, rng=0), rng)
    x = rng.standard_normal((2, 3, 7, 6))                        # N > 1, C > 1, not square
    report = check_layer(layer, x)
    assert [e.name for e in report.entries] == ["x", "W", "b"]
    assert report.ok, str(report)


@pytest.mark.parametrize("k, s, p", CASES)
def test_conv_transpose2d_gradients_by_finite_differences(rng, k, s, p):
    layer = with_bias(ConvTranspose2d(3, 2, k, s, p, dtype=np.float64, rng=0), rng)
    x = rng.standard_normal((2, 3, 4, 5))
    report = check_layer(layer, x)
    assert [e.name for e in report.entries] == ["x", "W", "b"]
    assert report.ok, str(report)


def test_a_wrong_backward_fails_the_check(rng, monkeypatch):
    """The check can fail: flipping the kernel in dx (a classic slip) is caught."""
    layer = Conv2d(2, 2, 3, 1, 1, dtype=np.float64, rng=0)
    x = rng.standard_normal((2, 2, 5, 4))
    assert check_layer(layer, x).ok
    original = layer.backward

    def flipped(dy, cache, **kw):
        layer.params["W"][...] = layer.params["W"][:, :, ::-1, ::-1].copy()
        try:
            return original(dy, cache, **kw)
        finally:
            layer.params["W"][...] = layer.params["W"][:, :, ::-1, ::-1].copy()
    monkeypatch.setattr(layer, "backward", flipped)
    report = check_layer(layer, x)
    assert report["x"].rel_error > 1e-3


def test_conv2d_by_hand():
    """A 1-channel 3x3 image, a 2x2 kernel: each output is the sum of its window times the kernel, plus b."""
    layer = Conv2d(1, 1, 2, dtype=np.float64, rng=0)
    layer.params["W"][...] = [[[[1.0, 2.0], [3.0, 4.0]]]]
    layer.params["b"][...] = 0.5
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    y, _ = layer.forward(x)
    # window at (0, 0): [[0, 1], [3, 4]] -> 0 + 2 + 9 + 16 = 27
    np.testing.assert_array_equal(y, [[[[27.5, 37.5], [57.5, 67.5]]]])


@pytest.mark.parametrize("k, s, p, h, w", [(3, 1, 1, 7, 5), (4, 2, 1, 8, 6), (3, 2, 0, 7, 9), (5, 3, 2, 7, 10)])
def test_conv_transpose_is_the_adjoint_of_conv(rng, k, s, p, h, w):
    """<conv(x), y> = <x, conv_T(y)> with the same W and zero biases (sizes where the two shapes match)."""
    conv = Conv2d(3, 4, k, s, p, dtype=np.float64, rng=0)
    conv_t = ConvTranspose2d(4, 3, k, s, p, dtype=np.float64, rng=1)
    conv_t.params["W"][...] = conv.params["W"]
    x = rng.standard_normal((2, 3, h, w))
    cx, _ = conv.forward(x)
    y = rng.standard_normal(cx.shape)
    cty, _ = conv_t.forward(y)
    assert cty.shape == x.shape
    np.testing.assert_allclose(np.sum(cx * y), np.sum(x * cty), rtol=1e-12)
    # and ConvTranspose2d's forward is Conv2d's input gradient
    _, cache = conv.forward(x)
    dx, _ = conv.backward(y, cache)
    np.testing.assert_allclose(cty, dx, rtol=1e-12, atol=1e-12)


def test_col2im_is_the_adjoint_of_im2col(rng):
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, 3, 2)
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, 3, 2)), rtol=1e-12)


@pytest.mark.parametrize("k, s, p", CASES)
def test_output_sizes(k, s, p):
    x = np.zeros((1, 2, 9, 8), dtype=np.float32)
    y, _ = Conv2d(2, 5, k, s, p, rng=0).forward(x)
    assert y.shape == (1, 5, conv_output_size(9, k, s, p), conv_output_size(8, k, s, p))
    assert y.shape[2] == (9 + 2 * p - k) // s + 1
    y, _ = ConvTranspose2d(2, 5, k, s, p, rng=0).forward(x)
    assert y.shape == (1, 5, conv_transpose_output_size(9, k, s, p), conv_transpose_output_size(8, k, s, p))
    assert y.shape[3] == (8 - 1) * s - 2 * p + k


def test_parameter_shapes_follow_pytorch():
    assert Conv2d(3, 5, 4).params["W"].shape == (5, 3, 4, 4)
    assert ConvTranspose2d(3, 5, 4).params["W"].shape == (3, 5, 4, 4)
    assert Conv2d(3, 5, 4).params["b"].shape == ConvTranspose2d(3, 5, 4).params["b"].shape == (5,)


def test_he_initialisation_has_the_variance_of_its_fan_in():
    W = Conv2d(16, 64, 3, rng=0).params["W"]
    assert W.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    W = Conv2d(16, 64, 3, init="glorot_uniform", rng=0).params["W"]
    assert W.std() == pytest.approx(np.sqrt(2 / (16 * 9 + 64 * 9)), rel=0.05)
    np.testing.assert_array_equal(Conv2d(2, 3, 3, rng=5).params["W"], Conv2d(2, 3, 3, rng=5).params["W"])


def test_float32_stays_float32(rng):
    for layer in (Conv2d(2, 3, 4, 2, 1, rng=0), ConvTranspose2d(2, 3, 4, 2, 1, rng=0)):
        x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
        y, cache = layer.forward(x)
        dx, grads = layer.backward(np.ones_like(y), cache)
        assert y.dtype == dx.dtype == grads["W"].dtype == grads["b"].dtype == np.float32


@pytest.mark.parametrize("make", [lambda **kw: Conv2d(2, 3, 3, **kw), lambda **kw: ConvTranspose2d(2, 3, 3, **kw)])
def test_bad_inputs_name_the_argument(make):
    layer = make(rng=0)
    with pytest.raises(ValueError, match="x must have 2 channels"):
        layer.forward(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"x must be 4-D"):
        layer.forward(np.zeros((1, 50), np.float32))
    with pytest.raises(TypeError, match="x must have dtype float32"):
        layer.forward(np.zeros((1, 2, 5, 5)))
    with pytest.raises(TypeError, match="x must be a numpy array"):
        layer.forward([[1.0]])
    y, cache = layer.forward(np.zeros((2, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="dy must have the shape of the layer's output"):
        layer.backward(np.zeros((2, 3, 4, 4), np.float32), cache)
    with pytest.raises(ValueError, match="dy must have 3 channels"):
        layer.backward(np.zeros((2, 2, *y.shape[2:]), np.float32), cache)


@pytest.mark.parametrize("cls", [Conv2d, ConvTranspose2d])
def test_bad_sizes_name_the_argument(cls):
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        cls(2, 3, 0)
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        cls(2, 3, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        cls(2, 3, 3, padding=-1)
    with pytest.raises(ValueError, match="in_channels"):
        cls(0, 3, 3)
    with pytest.raises(TypeError, match="out_channels"):
        cls(2, 2.5, 3)
    with pytest.raises(ValueError, match="init must be one of"):
        cls(2, 3, 3, init="zeros")


def test_a_kernel_larger_than_the_padded_input_is_refused():
    with pytest.raises(ValueError, match="H \\+ 2 padding >= kernel_size"):
        Conv2d(1, 1, 5).forward(np.zeros((1, 1, 3, 8), np.float32))


def test_speed_options_out_and_input_grad(rng):
    layer = Conv2d(2, 3, 3, 2, 1, dtype=np.float64, rng=0)
    x = rng.standard_normal((2, 2, 6, 5))
    y, cache = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    dx, grads = layer.backward(dy, cache)
    out = {"W": np.full((3, 2, 3, 3), np.nan), "b": np.full(3, np.nan)}
    none, filled = layer.backward(dy, cache, out=out, input_grad=False)
    assert none is None and filled is out
    np.testing.assert_array_equal(out["W"], grads["W"])
    np.testing.assert_array_equal(out["b"], grads["b"])
    dx_only, empty = layer.backward(dy, cache, param_grads=False)
    assert empty == {}
    np.testing.assert_array_equal(dx_only, dx)


def test_a_conv_network_gradients_and_flat_buffer(rng):
    """Reshape -> Conv2d -> LeakyReLU -> ConvTranspose2d -> Flatten -> Dense in a Sequential, checked end to end."""
    net = Sequential([Reshape((2, 5, 4)), Conv2d(2, 3, 3, 2, 1, dtype=np.float64, rng=0), LeakyReLU(0.2),
                      ConvTranspose2d(3, 2, 2, 2, 0, dtype=np.float64, rng=1), Flatten(),
                      Dense(2 * 6 * 4, 2, dtype=np.float64, rng=2)])
    assert net.in_features == 40 and net.out_features == 2
    assert net.sample_shapes() == [(2, 5, 4), (3, 3, 2), (3, 3, 2), (2, 6, 4), (48,), (2,)]
    assert net.layers[1].params["W"].base is not None      # a view into the flat buffer
    report = check_network(net, rng.standard_normal((3, 40)))
    assert report.ok, str(report)


def test_a_network_may_start_with_a_convolution(rng):
    net = Sequential([Conv2d(1, 2, 3, rng=0), Flatten()])
    assert net.in_features is None and net.out_features is None   # the input size is not fixed
    y, cache = net.forward(rng.standard_normal((2, 1, 5, 6)).astype(np.float32))
    assert y.shape == (2, 2 * 3 * 4)
    dx, _ = net.backward(np.ones_like(y), cache)
    assert dx.shape == (2, 1, 5, 6)
    with pytest.raises(TypeError, match="x must have dtype float32"):
        net.forward(np.zeros((2, 1, 5, 6)))


def test_layers_that_do_not_fit_are_refused_when_the_network_is_built():
    with pytest.raises(ValueError, match="layer 1 does not fit its input.*3, H, W"):
        Sequential([Reshape((1, 8, 8)), Conv2d(3, 4, 3, rng=0)])
    with pytest.raises(ValueError, match="layer 3 does not fit"):
        Sequential([Reshape((1, 8, 8)), Conv2d(1, 4, 3, rng=0), Flatten(), Dense(10, 1, rng=0)])


def test_grads_land_in_a_non_contiguous_out(rng):
    layer = ConvTranspose2d(2, 3, 3, 2, 1, dtype=np.float64, rng=0)
    x = rng.standard_normal((2, 2, 4, 3))
    y, cache = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    _, grads = layer.backward(dy, cache)
    big = np.zeros((2, 3, 3, 3, 2))
    out = {"W": big[..., 0], "b": np.zeros(3)}                  # a strided view
    layer.backward(dy, cache, out=out)
    np.testing.assert_array_equal(big[..., 0], grads["W"])


def test_batchnorm_first_and_a_first_convolution_keep_the_widths():
    from numgan import BatchNorm
    assert Sequential([BatchNorm(4), Dense(4, 2, rng=0)]).in_features == 4
    assert Sequential([Conv2d(1, 2, 3, rng=0), Flatten(), Dense(8, 3, rng=1)]).out_features == 3


def test_both_convolutions_declare_their_speed_options_to_sequential():
    """Sequential hands out= and input_grad= only to a backward declared with takes_speed_options = True."""
    from numgan import Conv2d, ConvTranspose2d
    assert Conv2d.backward_takes_speed_options() and ConvTranspose2d.backward_takes_speed_options()
