"""keras.applications' own arguments (alpha, depth_multiplier, minimalistic, dropout) on our constructors."""

import inspect

import numpy as np
import pytest

import keras
import keras_resfamily as kr
from model_cases import trainable_params


def test_signature_shows_the_row_s_own_values():
    parameters = inspect.signature(kr.MobileNetV3Large_075).parameters
    assert parameters["alpha"].default == 0.75 and parameters["minimalistic"].default is False
    assert {"alpha", "depth_multiplier", "dropout"} <= set(inspect.signature(kr.MobileNet).parameters)
    assert "alpha" not in inspect.signature(kr.EfficientNetB0).parameters
    assert "alpha:" in kr.MobileNetV2.__doc__


@pytest.mark.parametrize("constructor, arguments, row", [
    ("MobileNet", dict(alpha=0.5), "MobileNet_050"),
    ("MobileNet_025", dict(alpha=1.0), "MobileNet"),
    ("MobileNetV2", dict(alpha=1.4), "MobileNetV2_140"),
    ("MobileNetV3Large", dict(minimalistic=True), "MobileNetV3LargeMinimal"),
    ("MobileNetV3Small", dict(alpha=0.75), "MobileNetV3Small_075"),
])
def test_arguments_select_the_registered_row(constructor, arguments, row):
    model = getattr(kr, constructor)(input_shape=(32, 32, 3), **arguments)
    assert model.name == kr.get_spec(row).keras_name
    assert trainable_params(model) == trainable_params(kr.create_model(row, input_shape=(32, 32, 3)))


def test_depth_multiplier_matches_keras_applications():
    ours = kr.MobileNet(depth_multiplier=2, input_shape=(32, 32, 3))
    theirs = keras.applications.MobileNet(input_shape=(32, 32, 3), depth_multiplier=2, weights=None)
    assert trainable_params(ours) == trainable_params(theirs)
    assert ours.get_layer("blocks-0-0-conv_dw").depth_multiplier == 2


def test_combination_without_a_row_builds_without_weights():
    model = kr.MobileNetV3Small(alpha=0.75, minimalistic=True, input_shape=(32, 32, 3), classes=5)
    reference = kr.MobileNetV3SmallMinimal(input_shape=(32, 32, 3), classes=5)
    assert model.name == "mobilenetv3smallminimal_0_75"
    assert 0 < trainable_params(model) < trainable_params(reference)
    assert np.asarray(model(np.zeros((1, 32, 32, 3), "float32"))).shape == (1, 5)


def test_dropout_is_keras_applications_name_for_dropout_rate():
    model = kr.MobileNet(dropout=0.3, input_shape=(32, 32, 3))
    assert model.get_layer("drop").rate == 0.3


@pytest.mark.parametrize("constructor, arguments, message", [
    ("MobileNet", dict(alpha=0.3, weights="imagenet"),
     r"If imagenet weights are being loaded, alpha can be one of `1.0`, `1.25` only .*Received: alpha=0.3"),
    ("MobileNet", dict(depth_multiplier=2, weights="imagenet"),
     r"depth_multiplier can be one of `1` only .*Received: depth_multiplier=2"),
    ("MobileNetV2", dict(alpha=1.3, weights="imagenet"),
     r"alpha can be one of `0.35`, `0.5`, `0.75`, `1.0`, `1.4` only .*Received: alpha=1.3"),
    ("MobileNetV2", dict(alpha=-1), r"`alpha` must be a positive number. Received: alpha=-1"),
    ("MobileNet", dict(depth_multiplier=1.5), r"`depth_multiplier` must be a positive integer"),
    ("MobileNetV3Large", dict(minimalistic="yes"), r"`minimalistic` must be True or False. Received: minimalistic='yes'"),
    ("TimmMobileNetV3Large", dict(minimalistic=True), r"TimmMobileNetV3Large\(\) got an unexpected keyword argument 'minimalistic'"),
    ("EfficientNetB0", dict(alpha=0.5), r"EfficientNetB0\(\) got an unexpected keyword argument 'alpha'"),
    ("MobileNetV2", dict(input_shape=(31, 31, 3)), r"Input size must be at least 32x32; Received: input_shape=\(31, 31, 3\)"),
])
def test_bad_arguments_are_value_errors_in_keras_wording(constructor, arguments, message):
    with pytest.raises(ValueError, match=message):
        getattr(kr, constructor)(**arguments)
