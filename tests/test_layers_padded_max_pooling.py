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
