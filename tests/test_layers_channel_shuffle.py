"""ChannelShuffle: both references' permutations, exactly, and the Keras-layer contract of a weightless layer."""

import importlib.util
import pathlib

import numpy as np
import pytest

import keras
from keras_resfamily.layers import ChannelShuffle
from keras_resfamily.layers.channel_shuffle import shuffle_permutation
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)
RELEASE_BLOCKS = pathlib.Path(__file__).parent / "reference" / "shufflenet_v1" / "blocks.py"


def _nchw(images):
    import torch

    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def _release_block_class():
    """The vendored release's ShuffleV1Block (blocks.py imports only torch)."""
    module_spec = importlib.util.spec_from_file_location("shufflenet_v1_release_blocks", RELEASE_BLOCKS)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.ShuffleV1Block


# (channels, groups) with groups != channels / groups: there the two orders differ.
SHAPES = [(12, 3), (24, 8), (10, 2)]


@pytest.mark.parametrize("channels, groups", SHAPES)
def test_interleave_equals_torchvision(channels, groups):
    """Catches a permutation other than torchvision's ShuffleNet V2 `channel_shuffle` (its weights would
    then meet the wrong channels)."""
    pytest.importorskip("torch")
    from torchvision.models.shufflenetv2 import channel_shuffle

    images = RNG.normal(size=(2, 3, 5, channels)).astype("float32")
    expected = channel_shuffle(_nchw(images), groups).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(np.asarray(ChannelShuffle(groups)(images)), expected)


@pytest.mark.parametrize("channels, groups", SHAPES)
def test_deinterleave_equals_the_shufflenet_v1_release(channels, groups):
    """Catches a permutation other than the ShuffleNet V1 release's `ShuffleV1Block.channel_shuffle`
    (the inverse of torchvision's), run from the vendored, unmodified code."""
    pytest.importorskip("torch")
    block = _release_block_class()(channels, channels, group=groups, first_group=False, mid_channels=channels,
                                   ksize=3, stride=1)
    images = RNG.normal(size=(2, 4, 3, channels)).astype("float32")
    expected = block.channel_shuffle(_nchw(images)).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(np.asarray(ChannelShuffle(groups, order="deinterleave")(images)), expected)


def test_orders_are_inverse_permutations_and_differ():
    """Catches the two orders being equal or not inverse, and `shuffle_permutation` disagreeing with the
    layer; with groups == channels / groups the two coincide (a transpose of a square)."""
    images = RNG.normal(size=(1, 2, 2, 12)).astype("float32")
    interleaved = np.asarray(ChannelShuffle(3)(images))
    assert not np.array_equal(interleaved, np.asarray(ChannelShuffle(3, order="deinterleave")(images)))
    np.testing.assert_array_equal(np.asarray(ChannelShuffle(3, order="deinterleave")(interleaved)), images)
    for order in ("interleave", "deinterleave"):
        np.testing.assert_array_equal(np.asarray(ChannelShuffle(3, order=order)(images)),
                                      images[..., shuffle_permutation(12, 3, order)])
    assert shuffle_permutation(4, 2, "interleave") == shuffle_permutation(4, 2, "deinterleave") == [0, 2, 1, 3]
    np.testing.assert_array_equal(np.asarray(ChannelShuffle(1)(images)), images)


def test_bad_arguments_say_what_was_received():
    """Catches silent acceptance of groups that do not divide the channels (reshape would fail deep in the
    backend, or worse, succeed on a batch-flattened tensor) and of bad `groups` / `order` values."""
    with pytest.raises(ValueError, match=r"divisible by `groups`=3\. Received: input with shape \(None, 4, 4, 10\) "
                                         r"\(10 channels\)"):
        ChannelShuffle(3)(keras.Input((4, 4, 10)))
    with pytest.raises(ValueError, match="divisible by `groups`=4"):
        ChannelShuffle(4).compute_output_shape((None, 4, 4, 6))
    for groups in (0, 2.0, True, None):
        with pytest.raises(ValueError, match=rf"`groups` must be a positive integer\. Received: groups={groups!r}"):
            ChannelShuffle(groups)
    with pytest.raises(ValueError, match=r"`order` must be one of 'interleave', 'deinterleave'\. Received: "
                                         r"order='transpose'"):
        ChannelShuffle(2, order="transpose")


def test_keras_layer_contract():
    """tests/layer_contract.py: config round trip, no weights, symbolic shape, a fit step through it,
    float16 outputs with finite input gradients under mixed_float16."""
    check_layer_contract(lambda: ChannelShuffle(3, order="deinterleave"), (5, 6, 12), expected_weights=0)


def test_input_gradient_is_the_inverse_permutation_under_float16():
    """d(sum(w * x[perm])) / dx = w moved back through the inverse permutation (catches a gradient or a
    float16 path that does not permute exactly)."""
    import tensorflow as tf

    keras.config.set_dtype_policy("mixed_float16")
    images = RNG.normal(size=(2, 5, 7, 12)).astype("float32")
    x = tf.constant(images)
    weights = tf.constant(RNG.normal(size=images.shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        shuffled = ChannelShuffle(3)(x)
        loss = tf.reduce_sum(tf.cast(shuffled, "float32") * weights)
    assert keras.backend.standardize_dtype(shuffled.dtype) == "float16"
    gradient = tape.gradient(loss, x).numpy()
    expected = np.empty_like(gradient)
    expected[..., shuffle_permutation(12, 3)] = weights.numpy()
    np.testing.assert_allclose(gradient, expected, rtol=1e-3)
