"""Xception and SqueezeNet: what the registry-wide tests do not cover.

SqueezeNet's convolutional top (float32 under mixed precision, hub head detection, no top), its
ceil-mode max pools against torchvision at sizes where ceil mode changes every pool's output, and the
feature taps of the unpadded legacy Xception (its maps are not size / stride) against timm's.
"""

import numpy as np
import pytest

import keras
import keras_resfamily as kr
import keras_resfamily.families.squeezenet  # noqa: F401  (registers the rows until families/ imports it)
from keras_resfamily.hub.convert import head_prefixes

RNG = np.random.default_rng(0)


def _images(height, width):
    return RNG.normal(size=(2, height, width, 3)).astype("float32")


def test_squeezenet_conv_head_is_float32_under_mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")
    model = kr.create_model("SqueezeNet1_1", input_shape=(64, 64, 3))
    assert keras.backend.standardize_dtype(model.get_layer("features-3-squeeze").compute_dtype) == "float16"
    assert model.get_layer("classifier-1").compute_dtype == "float32"
    probs = model(_images(64, 64), training=False)
    assert keras.backend.standardize_dtype(probs.dtype) == "float32" and tuple(probs.shape) == (2, 1000)
    np.testing.assert_allclose(np.asarray(probs).sum(axis=1), 1.0, rtol=1e-5)


def test_squeezenet_head_is_the_classifier_conv():
    """The hub skips exactly the conv classifier's weights when loading a checkpoint without top."""
    assert head_prefixes(kr.get_spec("SqueezeNet1_0")) == ("classifier.1.",)


@pytest.mark.parametrize("name", ["SqueezeNet1_0", "SqueezeNet1_1"])
def test_squeezenet_without_top_is_the_512_channel_map(name):
    model = kr.create_model(name, include_top=False, input_shape=(69, 70, 3))
    assert model.output.shape[-1] == 512 and len(model.output.shape) == 4
    assert not any(layer.name.startswith("classifier") for layer in model.layers)
    pooled = kr.create_model(name, include_top=False, pooling="max", input_shape=(69, 70, 3))
    assert tuple(pooled.output.shape) == (None, 512)


@pytest.mark.parametrize("name", ["SqueezeNet1_0", "SqueezeNet1_1"])
def test_squeezenet_ceil_mode_pools_equal_torchvision_at_odd_and_even_sizes(name):
    """At 69 and 70 px ceil mode adds a window to all three pools of 1.0 and two of 1.1."""
    pytest.importorskip("torchvision")
    from timm_reference import randomized_reference_model, timm_forward

    spec = kr.get_spec(name)
    reference = randomized_reference_model(spec, seed=1)
    model = kr.create_model(name, classifier_activation=None)
    kr.load_timm_state_dict(model, reference.state_dict())
    for size in (69, 70):
        images = _images(size, size)
        expected = timm_forward(reference, images)
        actual = np.asarray(model(images, training=False))
        rel = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
        assert rel <= 1e-4, f"{name} at {size}px: max relative error {rel:.2e}"


def test_legacy_xception_features_are_timm_s_taps():
    """Unpadded stem: the maps are timm's (35x37 at stride 2 for 71x75), not ceil(size / stride)."""
    pytest.importorskip("timm")
    import torch
    from timm_reference import randomized_reference_model

    spec = kr.get_spec("Xception")
    reference = randomized_reference_model(spec, seed=1)
    model = kr.create_model("Xception", features_only=True)
    kr.load_timm_state_dict(model, reference.state_dict(), ignore_prefixes=("fc.",))
    images = _images(71, 75)
    with torch.no_grad():
        _, expected = reference.forward_intermediates(torch.from_numpy(images.transpose(0, 3, 1, 2)))
    features = model(images, training=False)
    keys = sorted(features, key=lambda key: int(key[len("stride"):]))
    assert keys == ["stride2", "stride4", "stride8", "stride16", "stride32"]
    for key, tap in zip(keys, expected):
        tap = tap.numpy().transpose(0, 2, 3, 1)
        np.testing.assert_allclose(np.asarray(features[key]), tap, rtol=1e-4, atol=1e-4 * np.abs(tap).max(),
                                   err_msg=key)
