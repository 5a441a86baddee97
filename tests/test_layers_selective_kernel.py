"""SelectiveKernel: timm SelectiveKernel parity (split input or not, stride 2, groups), Keras contract, bad input."""

import numpy as np
import pytest

import keras
from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layers import SelectiveKernel
from layer_contract import check_layer_contract, strided_slices

RNG = np.random.default_rng(0)
# (in channels, filters, strides, groups, split_input, kernel sizes)
CASES = [(16, 16, 1, 1, True, [3, 5]), (16, 32, 2, 4, False, [3, 5]), (12, 8, 2, 1, True, [3, 5, 7])]


@pytest.mark.parametrize("cin,filters,strides,groups,split_input,kernel_size", CASES)
def test_matches_timm_selective_kernel(cin, filters, strides, groups, split_input, kernel_size):
    torch = pytest.importorskip("torch")
    from timm.layers import SelectiveKernel as TimmSelectiveKernel

    torch.manual_seed(0)
    reference = TimmSelectiveKernel(cin, filters, kernel_size=kernel_size, stride=strides, groups=groups,
                                    split_input=split_input, rd_divisor=4)
    with torch.no_grad():
        for name, tensor in reference.state_dict().items():
            if tensor.dtype.is_floating_point:
                tensor.uniform_(0.5, 2.0) if "running_var" in name else tensor.normal_(0, 0.3)
    reference.eval()
    inputs = keras.Input((None, None, cin))
    layer = SelectiveKernel(filters, kernel_size, strides=strides, groups=groups, split_input=split_input,
                            rd_divisor=4, name="sk")
    model = keras.Model(inputs, layer(inputs))
    load_timm_state_dict(model, {f"sk.{k}": v for k, v in reference.state_dict().items()})
    images = RNG.normal(size=(2, 9, 9, cin)).astype("float32")  # odd size: checks strided dilated padding
    with torch.no_grad():
        expected = reference(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=1e-5 * np.abs(expected).max())


def test_attention_width_rules():
    assert SelectiveKernel(128).attention_channels() == 8  # timm: make_divisible(128 / 16, 8)
    assert SelectiveKernel(256, rd_divisor=32).attention_channels() == 32
    assert SelectiveKernel(1024, min_rd_channels=32).attention_channels() == 64  # paper: max(C / r, L)
    assert SelectiveKernel(128, min_rd_channels=32).attention_channels() == 32


def test_keras_layer_contract():
    # 2 paths x (conv + bn (4)); fc_reduce; attn bn (4); fc_select
    check_layer_contract(lambda: SelectiveKernel(8, groups=2, strides=2, rd_divisor=4), (6, 6, 8),
                         expected_weights=16)


@pytest.mark.parametrize("kwargs,match", [
    (dict(filters=8, kernel_size=[3]), r"received kernel_size=\[3\]"),
    (dict(filters=8, kernel_size=[3, 4]), r"received kernel_size=\[3, 4\]"),
    (dict(filters=8, kernel_size=5), "received kernel_size=5"),
    (dict(filters=12, groups=8), "received groups=8, filters=12"),
    (dict(filters=8, strides=0), "received strides=0"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SelectiveKernel(**kwargs)


def test_input_channels_must_split_into_paths_and_groups():
    with pytest.raises(ValueError, match=r"split_input=True\) and then into groups=1; received input shape"):
        SelectiveKernel(8)(keras.Input((8, 8, 7)))
    with pytest.raises(ValueError, match="groups=4"):
        SelectiveKernel(8, groups=4, split_input=False)(keras.Input((8, 8, 6)))


@pytest.mark.parametrize("strides,pads", [(1, 0), (2, 1)])
def test_pads_explicitly_only_where_same_differs(strides, pads):
    """PyTorch's symmetric padding is 'same' at stride 1, and at stride 2 for the dilated path, which subsamples
    first: the conv pads itself there, without a padded copy of the feature map. No strided slice: the path
    subsamples with a 1x1 pool (timm parity at both strides and with a 7x7 path: test_matches_timm_*)."""
    import tensorflow as tf

    layer = SelectiveKernel(16, kernel_size=[3, 5], strides=strides)
    graph = tf.function(lambda x: layer(x, training=False)).get_concrete_function(tf.TensorSpec((2, 8, 8, 16))).graph
    assert sum(op.type == "Pad" for op in graph.get_operations()) == pads
    for kernel_size in ([3, 5], [3, 5, 7]):  # 7x7 at stride 2: a dilation of 3, subsampled after the conv
        assert not strided_slices(lambda: SelectiveKernel(16, kernel_size=kernel_size, strides=strides), (9, 9, 12))
