"""Public API: constructors, registry lookups, preprocessing, decoding, feature extraction."""

import inspect
import re

import numpy as np
import pytest

import keras
import keras_resfamily as kr


def test_every_spec_has_a_documented_constructor():
    for spec in kr.specs.all_specs():
        constructor = getattr(kr, spec.name)
        assert constructor.__name__ == spec.name
        assert spec.name in constructor.__doc__ and spec.paper.split(",")[0] in constructor.__doc__
        if spec.reference:
            assert f"`{spec.reference}`" in constructor.__doc__
        params = list(inspect.signature(constructor).parameters)
        assert params[:8] == ["include_top", "weights", "input_tensor", "input_shape", "pooling", "classes",
                              "classifier_activation", "name"]


def test_docstring_notes_name_registered_models():
    """A row's note (e.g. ResNet50V2's: keras.applications' model of that name is KerasResNet50V2) is in its
    docstring, and every model it names exists."""
    noted = [spec for spec in kr.specs.all_specs() if spec.note]
    assert "ResNet50V2" in {spec.name for spec in noted}
    for spec in noted:
        assert " ".join(spec.note.split()) in " ".join(getattr(kr, spec.name).__doc__.split())
        for named in re.findall(r"`([A-Za-z0-9_]+)`", spec.note):
            kr.get_spec(named)


def test_list_models_and_lookup():
    names = kr.list_models()
    assert len(names) == len(set(names)) >= 46
    assert kr.list_models("resnext101*") == ["ResNeXt101_32x4d", "ResNeXt101_32x8d", "ResNeXt101_32x16d",
                                             "ResNeXt101_64x4d"]
    assert kr.get_spec("resnet50d").name == "ResNet50D"  # case-insensitive constructor name
    assert kr.get_spec("resnetv2_50").name == "ResNet50V2"  # timm name
    assert kr.create_model("resnet18", input_shape=(32, 32, 3)).name == "resnet18"


def test_features_only_returns_stage_outputs_by_stride():
    model = kr.ResNet50(features_only=True, input_shape=(64, 96, 3))
    out = model(np.zeros((1, 64, 96, 3), "float32"))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "stride4": (1, 16, 24, 256), "stride8": (1, 8, 12, 512),
        "stride16": (1, 4, 6, 1024), "stride32": (1, 2, 3, 2048),
    }
    cifar = kr.WideResNet28_10(features_only=True, input_shape=(32, 32, 3))
    assert sorted(cifar.output, key=lambda k: int(k[6:])) == ["stride1", "stride2", "stride4"]


def test_features_match_the_classifier_path():
    """The stride-32 feature of a pre-activation net is post final norm, i.e. what the head pools."""
    features = kr.ResNet50V2(features_only=True, input_shape=(64, 64, 3))
    full = kr.ResNet50V2(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    full.set_weights(features.get_weights())
    x = np.random.default_rng(0).normal(size=(1, 64, 64, 3)).astype("float32")
    pooled = np.asarray(features(x)["stride32"]).mean(axis=(1, 2))
    np.testing.assert_allclose(pooled, np.asarray(full(x)), rtol=1e-5, atol=1e-6)


def test_preprocess_input_uses_spec_normalisation_and_never_mutates():
    images = np.full((1, 2, 2, 3), 255.0, dtype="float32")
    original = images.copy()
    out = kr.preprocess_input(images)
    np.testing.assert_array_equal(images, original)
    np.testing.assert_allclose(out[0, 0, 0], (1 - np.array(kr.specs.IMAGENET_MEAN)) / kr.specs.IMAGENET_STD, rtol=1e-6)
    np.testing.assert_allclose(kr.preprocess_input(images, model="ResNet50V2"), np.ones_like(images))
    uint8 = np.zeros((2, 2, 3), "uint8")
    assert kr.preprocess_input(uint8).dtype == np.float32 and uint8.dtype == np.uint8
    tensor_out = kr.preprocess_input(keras.ops.convert_to_tensor(images), model="ResNet50V2")
    np.testing.assert_allclose(np.asarray(tensor_out), np.ones_like(images))
    with pytest.raises(ValueError, match="3 channels"):
        kr.preprocess_input(np.zeros((1, 4, 4, 1)))


def test_preprocess_input_follows_the_weight_tag_config():
    """Some tags were trained with mean/std 0.5 while the model's default uses ImageNet's."""
    tag = next(w for w in kr.list_weights("ResNet50D") if tuple(w["mean"]) == (0.5, 0.5, 0.5))["tag"]
    full = np.full((1, 1, 1, 3), 255.0)
    np.testing.assert_allclose(kr.preprocess_input(full, "ResNet50D", weights=tag), np.ones((1, 1, 1, 3)))


def test_spec_normalisation_equals_default_weights_config():
    for spec in kr.specs.all_specs():
        weights = kr.list_weights(spec.name) if spec.reference else []
        for entry in (w for w in weights if w["default"]):
            assert (tuple(entry["mean"]), tuple(entry["std"])) == (spec.mean, spec.std), spec.name


def test_decode_predictions():
    preds = np.zeros((2, 1000), "float32")
    preds[0, 1], preds[0, 0], preds[1, 999] = 0.9, 0.1, 1.0
    decoded = kr.decode_predictions(preds, top=2)
    assert decoded[0] == [("n01443537", "goldfish", pytest.approx(0.9)), ("n01440764", "tench", pytest.approx(0.1))]
    assert decoded[1][0][:2] == ("n15075141", "toilet_tissue")
    with pytest.raises(ValueError, match=r"Received array with shape: \(2, 10\)"):
        kr.decode_predictions(np.zeros((2, 10)))


def test_drop_path_and_dropout_are_wired():
    model = kr.ResNet18(input_shape=(32, 32, 3), drop_path_rate=0.2, dropout_rate=0.3)
    rates = [layer.rate for layer in model.layers if isinstance(layer, kr.layers.StochasticDepth)]
    assert rates[0] == pytest.approx(0.2 / 7) and rates[-1] == pytest.approx(0.2) and len(rates) == 7
    assert model.get_layer("drop").rate == 0.3
    x = np.ones((4, 32, 32, 3), "float32")
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), np.asarray(model(x, training=False)))
