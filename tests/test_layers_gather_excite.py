"""GatherExcite: every variant against a PyTorch-primitive reference, Keras layer contract.

timm 1.0's `GatherExcite` cannot be constructed (it passes device/dtype positionally), so the
reference here is the paper's operator written with torch.nn.functional.
"""

import numpy as np
import pytest

import keras
from keras_resfamily.layers import GatherExcite
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)


def _randomize(layer):
    for variable in layer.weights:
        kind = variable.path.rsplit("/", 1)[-1]
        low_high = (0.5, 2.0) if kind == "moving_variance" else (-0.5, 0.5)
        variable.assign(RNG.uniform(*low_high, variable.shape))


def _torch_reference(layer, images, extent, extra_params, use_mlp):
    import torch
    import torch.nn.functional as F

    weights = {v.path.split("/", 1)[1]: torch.from_numpy(np.asarray(v)) for v in layer.weights}
    x = torch.from_numpy(images.transpose(0, 3, 1, 2))
    channels = x.shape[1]
    if extra_params:
        gathered = x
        for i in range(len([k for k in weights if k.endswith("kernel") and "gather" in k])):
            prefix = f"gather-conv{i + 1}"
            kernel = weights[f"{prefix}/kernel"].permute(2, 3, 0, 1)  # (H, W, C, 1) -> (C, 1, H, W)
            if i:
                gathered = F.relu(gathered)
            gathered = F.conv2d(gathered, kernel, stride=2 if extent else 1, padding=1 if extent else 0,
                                groups=channels)
            norm = f"gather-norm{i + 1}"
            gathered = F.batch_norm(gathered, weights[f"{norm}/moving_mean"], weights[f"{norm}/moving_variance"],
                                    weights[f"{norm}/gamma"], weights[f"{norm}/beta"], eps=1e-5)
    elif extent == 0:
        gathered = x.mean(dim=(2, 3), keepdim=True)
    else:
        gathered = F.avg_pool2d(x, 2 * extent - 1, extent, extent - 1, count_include_pad=False)
    if use_mlp:
        for name, act in (("mlp-fc1", F.relu), ("mlp-fc2", lambda t: t)):
            kernel = weights[f"{name}/kernel"].permute(3, 2, 0, 1)
            gathered = act(F.conv2d(gathered, kernel, weights[f"{name}/bias"]))
    if gathered.shape[-2:] != x.shape[-2:]:
        gathered = F.interpolate(gathered, size=x.shape[-2:])  # nearest
    return (x * torch.sigmoid(gathered)).numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("extent,extra_params,use_mlp", [
    (0, False, False),  # GE-theta-minus, global
    (4, False, False),  # GE-theta-minus, extent 4
    (2, False, True),
    (8, True, True),  # GE-theta-plus, extent 8 (the GEResNet50 row)
    (4, True, False),  # GE-theta
    (0, True, True),  # GE-theta-plus, global: a depthwise conv as large as the map
])
def test_matches_torch_reference(extent, extra_params, use_mlp):
    pytest.importorskip("torch")
    images = RNG.normal(size=(2, 13, 11, 16)).astype("float32")  # odd sizes: padding and upsampling
    layer = GatherExcite(extent=extent, extra_params=extra_params, use_mlp=use_mlp, rd_ratio=0.25)
    layer.build(images.shape)
    _randomize(layer)
    expected = _torch_reference(layer, images, extent, extra_params, use_mlp)
    np.testing.assert_allclose(np.asarray(layer(images, training=False)), expected, atol=2e-6)


def test_keras_layer_contract():
    # extent 4, parametric, MLP: 2 x (conv + 4 BN) + 2 x (kernel + bias)
    check_layer_contract(lambda: GatherExcite(extent=4, extra_params=True, rd_ratio=0.25), (9, 9, 8),
                         expected_weights=14)
    check_layer_contract(lambda: GatherExcite(extent=2, rd_ratio=0.5), (7, 7, 4), expected_weights=4)


@pytest.mark.parametrize("extra_params", [False, True])
def test_strided_gate_is_computed_on_the_gathered_map(extra_params):
    """The sigmoid runs on the small gathered map, before the nearest-neighbour upsampling (the same values, one
    full-size pass fewer: GEResNet50 batch 8 1.02x); parity with the reference: test_matches_torch_reference."""
    import tensorflow as tf

    layer = GatherExcite(extent=4, extra_params=extra_params)
    graph = tf.function(lambda x: layer(x, training=False)).get_concrete_function(tf.TensorSpec((2, 16, 16, 8))).graph
    assert [tuple(op.outputs[0].shape) for op in graph.get_operations() if op.type == "Sigmoid"] == [(2, 4, 4, 8)]


def test_average_gather_does_not_overflow_in_float16():
    keras.config.set_dtype_policy("mixed_float16")
    images = np.full((1, 64, 64, 4), 6e4, "float32")
    for extent in (0, 8):
        out = GatherExcite(extent=extent, use_mlp=False)(images)
        assert np.all(np.isfinite(np.asarray(keras.ops.cast(out, "float32"))))


@pytest.mark.parametrize("kwargs,match", [
    (dict(extent=3), "extent=3"),
    (dict(extent=1), "extent=1"),
    (dict(rd_ratio=2.0), "rd_ratio=2.0"),
])
def test_bad_arguments_name_the_received_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GatherExcite(**kwargs)


def test_global_parametric_gather_needs_a_static_size():
    with pytest.raises(ValueError, match=r"received input_shape=\(None, None, None, 8\)"):
        GatherExcite(extent=0, extra_params=True).build((None, None, None, 8))
