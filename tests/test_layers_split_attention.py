"""SplitAttention: timm SplitAttn parity (radix 1 / 2 / 4, cardinality, stride), Keras contract, bad input."""

import numpy as np
import pytest

import keras
from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layers import SplitAttention
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)
# (in channels, filters, strides, cardinality, radix)
CASES = [(16, 16, 1, 1, 2), (16, 24, 2, 2, 4), (12, 12, 1, 4, 1)]


def _random_timm_state(module):
    import torch

    torch.manual_seed(0)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.dtype.is_floating_point:
                tensor.uniform_(0.5, 2.0) if "running_var" in name else tensor.normal_(0, 0.3)
    return module.eval()


@pytest.mark.parametrize("cin,filters,strides,cardinality,radix", CASES)
def test_matches_timm_split_attn(cin, filters, strides, cardinality, radix):
    torch = pytest.importorskip("torch")
    from timm.layers import SplitAttn

    reference = _random_timm_state(SplitAttn(cin, filters, 3, stride=strides, groups=cardinality, radix=radix,
                                             norm_layer=torch.nn.BatchNorm2d))
    inputs = keras.Input((None, None, cin))
    layer = SplitAttention(filters, 3, strides=strides, cardinality=cardinality, radix=radix, name="sa")
    model = keras.Model(inputs, layer(inputs))
    load_timm_state_dict(model, {f"sa.{k}": v for k, v in reference.state_dict().items()})
    images = RNG.normal(size=(2, 9, 9, cin)).astype("float32")  # odd size: checks the stride-2 padding
    with torch.no_grad():
        expected = reference(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=1e-5 * np.abs(expected).max())


def test_attention_width_follows_timm_rule():
    assert SplitAttention(128).attention_channels(128) == 64  # 128 * 2 * 0.25
    assert SplitAttention(64, radix=1).attention_channels(64) == 32  # at least 32
    assert SplitAttention(64, rd_channels=10, radix=4).attention_channels(64) == 40


def test_keras_layer_contract():
    # conv; bn0 (4); fc1 kernel + bias; bn1 (4); fc2 kernel + bias
    check_layer_contract(lambda: SplitAttention(8, cardinality=2, radix=2), (6, 6, 8), expected_weights=13)


def test_radix_weights_sum_to_one_per_channel():
    layer = SplitAttention(8, cardinality=2, radix=4)
    layer.build((None, 5, 5, 8))
    weights = np.asarray(layer._radix_weights(keras.ops.convert_to_tensor(RNG.normal(size=(3, 32)) * 50)))
    assert weights.shape == (3, 4, 8)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    (dict(filters=10, cardinality=4), "received cardinality=4, filters=10"),
    (dict(filters=8, radix=0), "received radix=0"),
    (dict(filters=8, cardinality=2.0), "received cardinality=2.0"),
    (dict(filters=8, rd_ratio=0.0), "received rd_ratio=0.0"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SplitAttention(**kwargs)


def test_radix_times_cardinality_must_divide_input_channels():
    with pytest.raises(ValueError, match=r"cardinality=2, radix=4 for input shape \(None, 8, 8, 12\)"):
        SplitAttention(8, cardinality=2, radix=4)(keras.Input((8, 8, 12)))


@pytest.mark.parametrize("strides,pads", [(1, 0), (2, 1)])
def test_pads_explicitly_only_where_same_differs(strides, pads):
    """PyTorch's symmetric padding is 'same' at stride 1: the conv pads itself there, without a padded copy of
    the feature map (timm parity at both strides: test_matches_timm_*)."""
    import tensorflow as tf

    layer = SplitAttention(16, strides=strides, radix=2)
    graph = tf.function(lambda x: layer(x, training=False)).get_concrete_function(tf.TensorSpec((2, 8, 8, 16))).graph
    assert sum(op.type == "Pad" for op in graph.get_operations()) == pads
