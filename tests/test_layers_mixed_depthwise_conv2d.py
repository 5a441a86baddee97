"""MixedDepthwiseConv2D and MixedConv2D (MixNet): timm MixedConv2d parity with uneven splits, Keras contract."""

import numpy as np
import pytest

import keras
from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layers import MixedConv2D, MixedDepthwiseConv2D
from keras_resfamily.layers.mixed_depthwise_conv2d import split_channels
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)
TIMM_PADDING = {"symmetric": "", "same": "same"}  # timm pad_type: '' is PyTorch's symmetric padding


def _timm_mixed(cin, cout, kernel_size, strides, padding, depthwise):
    torch = pytest.importorskip("torch")
    from timm.layers import MixedConv2d

    torch.manual_seed(0)
    reference = MixedConv2d(cin, cout, kernel_size, stride=strides, padding=TIMM_PADDING[padding],
                            depthwise=depthwise).eval()
    with torch.no_grad():
        for tensor in reference.state_dict().values():
            tensor.normal_(0.0, 0.3)
    return reference


def _compare(layer, reference, cin, size=(9, 11)):
    import torch

    inputs = keras.Input((None, None, cin))
    model = keras.Model(inputs, layer(inputs))
    load_timm_state_dict(model, {f"mix.{k}": v for k, v in reference.state_dict().items()})
    images = RNG.normal(size=(2,) + size + (cin,)).astype("float32")  # odd sizes: asymmetric TF padding
    with torch.no_grad():
        expected = reference(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    actual = np.asarray(model(images))
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("padding", ["symmetric", "same"])
@pytest.mark.parametrize("strides", [1, 2])
def test_depthwise_matches_timm_mixed_conv2d_uneven_split(strides, padding):
    """13 channels over kernels 3, 5, 7: splits [5, 4, 4] (the first takes the remainder)."""
    reference = _timm_mixed(13, 13, [3, 5, 7], strides, padding, depthwise=True)
    assert reference.splits == [5, 4, 4]
    layer = MixedDepthwiseConv2D([3, 5, 7], strides=strides, padding=padding, name="mix")
    _compare(layer, reference, 13)
    assert [conv.kernel.shape for conv in layer.convs] == [(3, 3, 5, 1), (5, 5, 4, 1), (7, 7, 4, 1)]


@pytest.mark.parametrize("padding", ["symmetric", "same"])
@pytest.mark.parametrize("kernel_size,strides", [([1, 1], 1), ([1, 1, 1], 1), ([1, 3], 2)])
def test_grouped_matches_timm_mixed_conv2d(kernel_size, strides, padding):
    """MixNet's grouped 1x1 convs: input and output channels split unevenly (13 -> 20 over 3 groups)."""
    reference = _timm_mixed(13, 20, kernel_size, strides, padding, depthwise=False)
    _compare(MixedConv2D(20, kernel_size, strides=strides, padding=padding, name="mix"), reference, 13)


def test_split_channels_equals_timm():
    from timm.layers.mixed_conv2d import _split_channels

    for channels in (4, 13, 120, 200, 336, 1001):
        for groups in (1, 2, 3, 4, 5):
            assert split_channels(channels, groups) == _split_channels(channels, groups), (channels, groups)


def test_keras_layer_contract_depthwise():
    check_layer_contract(lambda: MixedDepthwiseConv2D([3, 5, 7], strides=2, padding="symmetric"), (7, 7, 13),
                         expected_weights=3)
    check_layer_contract(lambda: MixedDepthwiseConv2D([3, 5], padding="same", use_bias=True), (6, 5, 8),
                         expected_weights=4)


def test_keras_layer_contract_grouped():
    check_layer_contract(lambda: MixedConv2D(10, [1, 1, 1]), (5, 5, 7), expected_weights=3)
    check_layer_contract(lambda: MixedConv2D(6, [1, 3], strides=2, padding="symmetric"), (7, 6, 5),
                         expected_weights=2)


def test_sublayers_are_named_by_group_index():
    """Group i is sublayer "i": the variable paths map to timm's `conv_dw.{i}.weight` by name."""
    inputs = keras.Input((8, 8, 9))
    model = keras.Model(inputs, MixedDepthwiseConv2D([3, 5], name="blocks-2-0-conv_dw")(inputs))
    assert [v.path for v in model.weights] == ["blocks-2-0-conv_dw/0/kernel", "blocks-2-0-conv_dw/1/kernel"]


@pytest.mark.parametrize("make,match", [
    (lambda: MixedDepthwiseConv2D([]), r"received kernel_size=\[\]"),
    (lambda: MixedDepthwiseConv2D([3, 0]), r"received kernel_size=\[3, 0\]"),
    (lambda: MixedDepthwiseConv2D([3, 4], padding="symmetric"), r"must be odd.*kernel_size=\[3, 4\]"),
    (lambda: MixedDepthwiseConv2D([3], padding="valid"), "received padding='valid'"),
    (lambda: MixedDepthwiseConv2D([3], strides=0), "received strides=0"),
    (lambda: MixedConv2D(2, [1, 1, 1]), "received filters=2"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_fewer_channels_than_groups_raise():
    with pytest.raises(ValueError, match=r"at least 3 input channels.*\(None, 8, 8, 2\)"):
        MixedDepthwiseConv2D([3, 5, 7])(keras.Input((8, 8, 2)))
