"""Builder options every family shares: in-model preprocessing and the constructors' signatures."""

import inspect

import numpy as np
import pytest
import tensorflow as tf

import keras_resfamily as kr
from keras_resfamily.export.checks import normalises_inputs

RNG = np.random.default_rng(0)


def _pixels(batch, size):
    return RNG.uniform(0, 255, size=(batch, size, size, 3)).astype("float32")


def test_include_preprocessing_equals_preprocess_input_then_the_plain_model():
    plain = kr.create_model("ResNet18", input_shape=(32, 32, 3), classes=3)
    inside = kr.create_model("ResNet18D", input_shape=(32, 32, 3), classes=3, include_preprocessing=True)
    assert not normalises_inputs(plain) and normalises_inputs(inside)
    # ResNet18D's own mean/std (timm's, ImageNet's) and a model whose weights equal ResNet18D's
    twin = kr.create_model("ResNet18D", input_shape=(32, 32, 3), classes=3)
    twin.set_weights(inside.get_weights())
    pixels = _pixels(2, 32)
    expected = np.asarray(twin(kr.preprocess_input(pixels, model="ResNet18D"), training=False))
    np.testing.assert_allclose(np.asarray(inside(pixels, training=False)), expected, rtol=1e-5, atol=1e-6)


def test_include_preprocessing_uses_the_tag_s_normalisation():
    entry = kr.hub.get_weights_entry("ResNet50V2", "imagenet")
    model = kr.create_model("ResNet50V2", input_shape=(32, 32, 3), classes=3, include_preprocessing=True)
    layer = model.get_layer("preprocessing")
    np.testing.assert_allclose(layer.offset, [-m / s for m, s in zip(entry.mean, entry.std)])


def test_include_preprocessing_needs_rgb():
    with pytest.raises(ValueError, match=r"needs 3 input channels. Received: input_shape=\(32, 32, 1\)"):
        kr.create_model("ResNet18", input_shape=(32, 32, 1), include_preprocessing=True)


def test_exported_model_that_normalises_itself_is_not_normalised_twice(tmp_path):
    model = kr.create_model("ResNet18", input_shape=(32, 32, 3), classes=3, include_preprocessing=True)
    path = kr.export_serving(model, str(tmp_path / "1"), spec="ResNet18")
    served = tf.saved_model.load(path).signatures["serving_default"]
    pixels = _pixels(2, 32)
    np.testing.assert_allclose(served(images=tf.constant(pixels))["probabilities"].numpy(),
                               np.asarray(model(pixels, training=False)), rtol=1e-5, atol=1e-6)


def test_constructor_signature_is_explicit_and_rejects_unknown_arguments():
    parameters = inspect.signature(kr.ResNet50).parameters
    assert list(parameters)[:3] == ["include_top", "weights", "input_tensor"]
    assert parameters["include_preprocessing"].default is False
    with pytest.raises(TypeError, match=r"ResNet50\(\) got an unexpected keyword argument 'alpha'"):
        kr.ResNet50(alpha=0.5)
    with pytest.raises(TypeError, match=r"ResNet50\(\) got an unexpected keyword argument 'alpha'"):
        kr.create_model("ResNet50", alpha=0.5)
