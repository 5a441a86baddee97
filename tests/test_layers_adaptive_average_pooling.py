"""AdaptiveAveragePooling2D: PyTorch's adaptive_avg_pool2d bins (uneven and overlapping), at unknown sizes."""

import numpy as np
import pytest

import keras
from keras_resfamily.layers import AdaptiveAveragePooling2D

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("output_size", [(4, 4), (1, 1), (3, 2)])
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (5, 5), (7, 9), (14, 14), (17, 10)])
def test_bins_equal_torch(output_size, size):
    """Sizes the output divides, does not divide (uneven, overlapping bins) and is larger than (repeats)."""
    torch = pytest.importorskip("torch")
    images = RNG.normal(size=(2,) + size + (3,)).astype("float32")
    expected = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(images.transpose(0, 3, 1, 2)),
                                                       output_size).numpy().transpose(0, 2, 3, 1)
    layer = AdaptiveAveragePooling2D(output_size)
    actual = np.asarray(layer(images))
    assert actual.shape == expected.shape == layer.compute_output_shape((2,) + size + (3,))
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


def test_uneven_bins_are_not_uniform_pooling():
    """14 -> 4: bins of rows 0-3, 3-6, 7-10, 10-13 (4 rows each, overlapping), not 3.5-row strides."""
    images = np.arange(14, dtype="float32").reshape(1, 14, 1, 1)
    pooled = np.asarray(AdaptiveAveragePooling2D((4, 1))(images))[0, :, 0, 0]
    np.testing.assert_allclose(pooled, [1.5, 4.5, 8.5, 11.5])


def test_unknown_size_config_round_trip_and_float16():
    """No weights, so layer_contract's training checks do not apply: unknown sizes, config and float16."""
    model = keras.Sequential([keras.Input((None, None, 2)), AdaptiveAveragePooling2D(4)])
    assert model(np.zeros((1, 14, 11, 2), "float32")).shape == (1, 4, 4, 2)
    layer = AdaptiveAveragePooling2D((4, 3), dtype="mixed_float16")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert restored.get_config() == layer.get_config() and restored.output_size == (4, 3)
    outputs = restored(RNG.normal(size=(1, 9, 10, 4)).astype("float32"))
    assert keras.backend.standardize_dtype(outputs.dtype) == "float16" and outputs.shape == (1, 4, 3, 4)
    assert np.all(np.isfinite(np.asarray(outputs)))
    with pytest.raises(ValueError, match=r"received output_size=\(4, 0\)"):
        AdaptiveAveragePooling2D((4, 0))
