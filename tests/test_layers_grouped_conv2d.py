"""GroupedConv2D: identical outputs and gradients to keras Conv2D(groups) whichever formulation runs."""

import numpy as np
import pytest

import keras
from keras_resfamily.layers import GroupedConv2D
from keras_resfamily.layers import grouped_conv2d

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("strides,dilation,padding", [(1, 1, "same"), (2, 1, "valid"), (1, 2, "same")])
def test_equals_conv2d_with_groups(monkeypatch, split, strides, dilation, padding):
    import tensorflow as tf

    monkeypatch.setattr(grouped_conv2d, "split_groups_is_faster", lambda: split)
    args = dict(filters=12, kernel_size=3, strides=strides, dilation_rate=dilation, padding=padding, groups=4)
    ours, native = GroupedConv2D(**args), keras.layers.Conv2D(**args)
    images = tf.constant(RNG.normal(size=(2, 9, 9, 8)).astype("float32"))
    ours.build(images.shape)
    native.build(images.shape)
    native.set_weights(ours.get_weights())
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(images)
        y_ours, y_native = ours(images), native(images)
    np.testing.assert_allclose(y_ours.numpy(), y_native.numpy(), atol=1e-5)
    for a, b in zip(tape.gradient(y_ours, [images, ours.kernel.value]),
                    tape.gradient(y_native, [images, native.kernel.value])):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4)


def test_is_a_conv2d_with_conv2d_config():
    layer = GroupedConv2D(8, 3, groups=2)
    assert isinstance(layer, keras.layers.Conv2D)
    assert GroupedConv2D.from_config(layer.get_config()).get_config() == layer.get_config()
