"""keras.applications' own test cases (keras/src/applications/applications_test.py) on the rows that
take a keras.applications name with another reference: InceptionV3, InceptionResNetV2 and Xception
(timm's computation, keras.applications' constructor). Output shapes are compared with keras.applications'
models built alongside: the unpadded trunks must shrink inputs exactly as they do."""

import keras
import numpy as np
import pytest

import keras_resfamily as kr

RNG = np.random.default_rng(0)


def _shape(model):
    return tuple(model.output.shape)


@pytest.mark.parametrize("name", ["InceptionV3", "InceptionResNetV2", "Xception"])
def test_keras_applications_cases(name):
    ours, theirs = getattr(kr, name), getattr(keras.applications, name)

    # Without the top, a custom input shape with 4 channels (weights=None): keras.applications' 4-channel
    # and custom-shape cases at once. The map is the size of keras.applications' on an odd input.
    unpooled = _shape(ours(include_top=False, weights=None, input_shape=(123, 123, 4)))
    assert unpooled == _shape(theirs(include_top=False, weights=None, input_shape=(123, 123, 3)))

    # A custom 1-channel input tensor is the model's input; pooling gives (batch, channels).
    tensor = keras.Input((150, 150, 1))
    model = ours(include_top=False, weights=None, input_tensor=tensor, pooling="avg")
    assert model.inputs[0] is tensor and _shape(model) == (None, unpooled[-1])

    # The config round trip rebuilds the same model.
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    images = RNG.normal(size=(1, 150, 150, 1)).astype("float32")
    np.testing.assert_array_equal(np.asarray(clone(images)), np.asarray(model(images)))

    # Below the network's minimum: keras.applications' wording.
    with pytest.raises(ValueError, match=r"Input size must be at least \d+x\d+; Received: input_shape=\(70, 70, 3\)"):
        ours(weights=None, input_shape=(70, 70, 3))


@pytest.mark.parametrize(("name", "channels"), [("DenseNet121", 1024), ("DenseNet169", 1664), ("DenseNet201", 1920)])
def test_keras_applications_densenet_cases(name, channels):
    """The same cases for DenseNet121/169/201: timm's computation (BN epsilon 1e-5), keras.applications'
    constructor. Its floor-mode transitions shrink an odd input as keras.applications' 'valid' 2x2 average
    pools do; the minimum is keras.applications' 32x32."""
    ours, theirs = getattr(kr, name), getattr(keras.applications, name)
    unpooled = _shape(ours(include_top=False, weights=None, input_shape=(123, 123, 4)))
    theirs_unpooled = _shape(theirs(include_top=False, weights=None, input_shape=(123, 123, 3)))
    assert unpooled == theirs_unpooled == (None, 3, 3, channels)

    tensor = keras.Input((45, 45, 1))
    model = ours(include_top=False, weights=None, input_tensor=tensor, pooling="avg")
    assert model.inputs[0] is tensor and _shape(model) == (None, channels)  # (reload: the registry tests)

    with pytest.raises(ValueError, match=r"Input size must be at least 32x32; Received: input_shape=\(31, 31, 3\)"):
        ours(weights=None, input_shape=(31, 31, 3))


def test_keras_applications_resnetv2_cases():
    """KerasResNet50V2 computes keras.applications' ResNet50V2 (the parity test: equal outputs by layer name); its
    map shrinks odd inputs as keras.applications' does, a custom input tensor is the model's input, and the
    minimum is keras.applications' 32x32."""
    unpooled = _shape(kr.KerasResNet50V2(include_top=False, weights=None, input_shape=(123, 123, 4)))
    theirs = _shape(keras.applications.ResNet50V2(include_top=False, weights=None, input_shape=(123, 123, 3)))
    assert unpooled == theirs == (None, 4, 4, 2048)

    tensor = keras.Input((45, 45, 1))
    model = kr.KerasResNet50V2(include_top=False, weights=None, input_tensor=tensor, pooling="max")
    assert model.inputs[0] is tensor and _shape(model) == (None, 2048)

    with pytest.raises(ValueError, match=r"Input size must be at least 32x32; Received: input_shape=\(31, 31, 3\)"):
        kr.KerasResNet50V2(weights=None, input_shape=(31, 31, 3))
