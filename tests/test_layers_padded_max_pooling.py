"""PaddedMaxPooling2D: PyTorch MaxPool2d windows (symmetric -inf padding, ceil mode) at odd and even sizes."""

import numpy as np
import pytest

import keras
from keras_resfamily.layers import PaddedMaxPooling2D

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("pool_size, strides, padding, ceil_mode", [
    (3, 2, 1, False), (3, 2, 0, True), (3, 2, 1, True), (2, 2, 0, True), (3, 1, 1, True)])
@pytest.mark.parametrize("size", [(7, 8), (13, 14), (55, 56)])
def test_windows_equal_torch(pool_size, strides, padding, ceil_mode, size):
    torch = pytest.importorskip("torch")
    images = RNG.normal(size=(2,) + size + (3,)).astype("float32")
    with torch.no_grad():
        expected = torch.nn.functional.max_pool2d(torch.from_numpy(images.transpose(0, 3, 1, 2)), pool_size, strides,
                                                  padding, ceil_mode=ceil_mode).numpy().transpose(0, 2, 3, 1)
    layer = PaddedMaxPooling2D(pool_size, strides, padding, ceil_mode=ceil_mode)
    actual = np.asarray(layer(images))
    assert actual.shape == expected.shape == layer.compute_output_shape((2,) + size + (3,))
    np.testing.assert_array_equal(actual, expected)


def test_ceil_mode_is_neither_keras_padding():
    """The trap ceil mode sets (3x3 / 2 windows): it keeps a last partial window on even sizes (56 -> 28,
    where "valid" gives 27) but not on odd ones (55 -> 27, where "same" gives 28), so no single Keras
    padding reproduces it."""
    for size, valid_size, same_size in ((56, 27, 28), (55, 27, 28)):
        images = RNG.normal(size=(1, size, size, 1)).astype("float32")
        ceil = np.asarray(PaddedMaxPooling2D(3, 2, 0, ceil_mode=True)(images))
        assert keras.layers.MaxPooling2D(3, 2, padding="valid")(images).shape[1] == valid_size
        assert keras.layers.MaxPooling2D(3, 2, padding="same")(images).shape[1] == same_size
        assert ceil.shape[1] == (same_size if size % 2 == 0 else valid_size)


def test_ceil_mode_with_unknown_size_and_bad_arguments():
    model = keras.Sequential([keras.Input((None, None, 2)), PaddedMaxPooling2D(3, 2, 0, ceil_mode=True)])
    for size, pooled in ((13, 6), (14, 7)):
        assert model(np.zeros((1, size, size, 2), "float32")).shape[1] == pooled
    with pytest.raises(ValueError, match="pool_size >= padding \\+ strides"):
        PaddedMaxPooling2D(2, 2, 1, ceil_mode=True)


def test_config_round_trip_and_float16():
    """No weights, so layer_contract's training checks do not apply: config and float16 only."""
    layer = PaddedMaxPooling2D(3, 2, 0, ceil_mode=True, dtype="mixed_float16")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert restored.get_config() == layer.get_config() and restored.ceil_mode
    outputs = restored(RNG.normal(size=(1, 9, 10, 4)).astype("float32"))
    assert keras.backend.standardize_dtype(outputs.dtype) == "float16" and outputs.shape == (1, 4, 5, 4)
    assert np.all(np.isfinite(np.asarray(outputs)))


@pytest.mark.parametrize("padding, ceil_mode", [(1, False), (0, True), (1, True)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("onednn", [False, True])
def test_without_onednn_tensorflow_pads_inside_the_pool_op(monkeypatch, padding, ceil_mode, dtype, onednn):
    """TensorFlow without oneDNN (Eigen's kernels): one MaxPool op with EXPLICIT padding, no separate -inf PadV2
    pass (which cost as much as the pool itself); with oneDNN the pad stays. Outputs and gradients equal either way."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow backend only")
    from keras_resfamily.layers import padded_max_pooling

    monkeypatch.setattr(padded_max_pooling, "runs_on_eigen_cpu_kernels", lambda: not onednn)
    layer = PaddedMaxPooling2D(3, 2, padding, ceil_mode=ceil_mode, dtype=dtype)
    x = tf.constant(RNG.normal(size=(2, 14, 13, 3)), dtype)
    extra = 1 if ceil_mode else 0
    pads = [[0, 0], [padding, padding + extra], [padding, padding + extra], [0, 0]]

    def padded_form(x):
        return tf.nn.max_pool2d(tf.pad(x, pads, constant_values=float("-inf")), 3, 2, "VALID")

    def outputs_and_gradients(pool):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = pool(x)
            loss = tf.reduce_sum(tf.cast(y, "float32") ** 2)
        return y, tape.gradient(loss, x)

    graph = tf.function(layer).get_concrete_function(tf.TensorSpec(x.shape, dtype)).graph
    pool_ops = [op for op in graph.get_operations() if "Pool" in op.type or "Pad" in op.type]
    assert [op.type for op in pool_ops] == (["PadV2", "MaxPool"] if onednn else ["MaxPool"])
    assert pool_ops[-1].get_attr("padding") == (b"VALID" if onednn else b"EXPLICIT")
    (y, grad), (expected_y, expected_grad) = outputs_and_gradients(layer), outputs_and_gradients(padded_form)
    np.testing.assert_array_equal(np.asarray(tf.cast(y, "float32")), np.asarray(tf.cast(expected_y, "float32")))
    np.testing.assert_array_equal(np.asarray(tf.cast(grad, "float32")), np.asarray(tf.cast(expected_grad, "float32")))


def test_xla_compiled_pool_keeps_the_pad(monkeypatch):
    """XLA compiles no pooling with EXPLICIT padding ("XLA does not support pooling ops with explicit padding"):
    inside a jit-compiled function the pad stays even where the Eigen kernels would get the explicit form."""
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow backend only")
    from keras_resfamily.layers import cpu_kernels

    monkeypatch.setattr(cpu_kernels, "tensorflow_onednn_enabled", lambda: False)
    layer = PaddedMaxPooling2D(3, 2, 1)
    x = tf.constant(RNG.normal(size=(1, 9, 8, 2)), "float32")
    for jit_compile, pad in ((False, []), (True, ["PadV2"])):
        forward = tf.function(layer, jit_compile=jit_compile)
        graph = forward.get_concrete_function(tf.TensorSpec(x.shape, x.dtype)).graph
        assert [op.type for op in graph.get_operations() if "Pad" in op.type] == pad
        np.testing.assert_array_equal(np.asarray(forward(x)), np.asarray(layer(x)))
