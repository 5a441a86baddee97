"""Bad input fails early with a ValueError that says what was received."""

import pytest

import keras_resfamily as kr
from keras_resfamily.families.residual.spec import ResidualSpec


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(weights="no_such_weights"), r"The `weights` argument should be.*Received: weights='no_such_weights'"),
        (dict(weights="imagenet", classes=10), r"`classes` should be 1000. Received classes=10"),
        (dict(input_shape=(64, 64)), r"tuple of three integers.*Received: input_shape=\(64, 64\)"),
        (dict(input_shape=(1, 64, 64, 3)), r"Received: input_shape=\(1, 64, 64, 3\)"),
        (dict(input_shape=(64, 64, 0)), r"positive integer.*input_shape=\(64, 64, 0\)"),
        (dict(input_shape=(16, 64, 3)), r"at least 32x32; Received: input_shape=\(16, 64, 3\)"),
        (dict(weights="imagenet", input_shape=(64, 64, 1)), r"3 channels; Received `input_shape=\(64, 64, 1\)`"),
        (dict(include_top=False, pooling="mean"), r"`pooling` argument should be one of.*Received: pooling='mean'"),
        (dict(weights="imagenet", classifier_activation="relu"), r"Received: classifier_activation='relu'"),
        (dict(classes=0), r"positive integer. Received: classes=0"),
        (dict(drop_path_rate=1.5), r"Received: drop_path_rate=1.5"),
        (dict(dropout_rate=-0.1), r"Received: dropout_rate=-0.1"),
        # features_only returns the stage feature maps: head arguments would be silently ignored.
        (dict(features_only=True, pooling="avg"), r"`features_only=True`.*Received: pooling='avg'"),
        (dict(features_only=True, classes=10), r"`features_only=True`.*Received: classes=10"),
        (dict(features_only=True, classes=1000), r"`features_only=True`.*Received: classes=1000"),
        (dict(features_only=True, classifier_activation=None), r"Received: classifier_activation=None"),
        (dict(features_only=True, dropout_rate=0.2), r"`features_only=True`.*Received: dropout_rate=0.2"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kr.ResNet18(**kwargs)


def test_unknown_model_name_suggests_close_names():
    with pytest.raises(ValueError, match=r"Unknown model name: 'ResNet51'.*Similar names: .*ResNet50"):
        kr.create_model("ResNet51")


def test_unknown_classifier_activation():
    with pytest.raises(ValueError, match="no_such_activation"):
        kr.ResNet18(classifier_activation="no_such_activation")


def test_cardinality_must_divide_the_grouped_width():
    spec = ResidualSpec(name="BadGroups", family="test", block="preact_bottleneck", depths=(1, 1, 1, 1),
                     cardinality=3, stem="conv7_preact", layout="resnetv2")
    with pytest.raises(ValueError, match=r"received cardinality=3 for 64 channels"):
        kr.build_model(spec)


def test_spec_rows_are_validated():
    with pytest.raises(ValueError, match=r"same length; received depths=\(1, 1\)"):
        ResidualSpec(name="Bad", family="test", block="basic", depths=(1, 1))
    with pytest.raises(ValueError, match="already registered"):
        kr.register_model(kr.get_spec("ResNet18"))
