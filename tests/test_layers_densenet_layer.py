"""DenseNetLayer: timm DenseLayer parity, Keras BatchNormalization's training semantics, remat, Keras contract."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layers import DenseNetLayer
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)
CHANNELS = (5, 3, 3)  # the block input and two earlier layers' outputs (growth rate 3)
GROWTH, BN_SIZE = 3, 2


def _inputs():
    return [RNG.normal(size=(2, 7, 9, c)).astype("float32") for c in CHANNELS]  # odd sizes: 'same' == padding 1


def _model(layer):
    inputs = [keras.Input((None, None, c)) for c in CHANNELS]
    return keras.Model(inputs, layer(inputs))


def _randomize(model):
    """Random weights and BN statistics (zero means / unit variances would hide a wrong update)."""
    for variable in model.weights:
        if "moving_variance" in variable.path or "gamma" in variable.path:
            variable.assign(RNG.uniform(0.5, 1.5, variable.shape).astype("float32"))
        else:
            variable.assign(RNG.normal(0, 0.3, variable.shape).astype("float32"))


def test_matches_timm_dense_layer_on_a_feature_list():
    """Eval and training-mode outputs equal timm's DenseLayer (concatenation order, BN + ReLU, the 3x3
    conv's padding), loading timm's state_dict by name under the layer's name: catches a wrong
    sublayer name, order or padding."""
    torch = pytest.importorskip("torch")
    from timm.models.densenet import DenseLayer

    torch.manual_seed(0)
    reference = DenseLayer(sum(CHANNELS), GROWTH, BN_SIZE)
    with torch.no_grad():
        for name, tensor in reference.state_dict().items():
            if tensor.dtype.is_floating_point:
                tensor.uniform_(0.5, 1.5) if "running_var" in name or name.endswith("norm1.weight") else tensor.normal_(0, 0.3)
    model = _model(DenseNetLayer(GROWTH, BN_SIZE, name="denselayer"))
    load_timm_state_dict(model, {f"denselayer.{k}": v for k, v in reference.state_dict().items()})
    features = _inputs()
    torch_features = [torch.from_numpy(f.transpose(0, 3, 1, 2)) for f in features]
    for training in (False, True):
        reference.train(training)
        with torch.no_grad():
            expected = reference(torch_features).numpy().transpose(0, 2, 3, 1)
        actual = np.asarray(model(features, training=training))
        np.testing.assert_allclose(actual, expected, atol=1e-5 * np.abs(expected).max(), err_msg=f"training={training}")


def _keras_layers_reference(layer):
    """The same computation from Keras' own layers with `layer`'s weights: concat, BN, ReLU, conv, BN, ReLU, conv."""
    inputs = [keras.Input((None, None, c)) for c in CHANNELS]
    x = keras.layers.Concatenate()(inputs)
    for norm, conv in ((layer.norm1, layer.conv1), (layer.norm2, layer.conv2)):
        bn = keras.layers.BatchNormalization(momentum=norm.momentum, epsilon=norm.epsilon)
        plain_conv = keras.layers.Conv2D(conv.filters, conv.kernel_size, padding="same", use_bias=False)
        x = plain_conv(keras.layers.ReLU()(bn(x)))
        bn.set_weights(norm.get_weights())
        plain_conv.set_weights(conv.get_weights())
    return keras.Model(inputs, x)


@pytest.mark.parametrize("remat", [False, True])
def test_training_step_equals_keras_batch_normalization(remat):
    """A training-mode call gives Keras BatchNormalization's outputs, input and weight gradients and
    moving statistics (one update, momentum 0.9): the layer computes BN's training arithmetic itself
    (to keep the rematerialised unit free of side effects); catches a wrong formula, a missing update,
    or, with remat, a second update from the recomputation."""
    layer = DenseNetLayer(GROWTH, BN_SIZE, remat=remat)
    model = _model(layer)
    _randomize(model)
    reference = _keras_layers_reference(layer)
    features = [tf.constant(f) for f in _inputs()]
    results = []
    for net in (model, reference):
        with tf.GradientTape() as tape:
            tape.watch(features)
            outputs = net(features, training=True)
            loss = tf.reduce_sum(outputs * outputs)
        gradients = tape.gradient(loss, features + net.trainable_weights)
        statistics = [np.asarray(v) for v in net.non_trainable_weights]
        results.append((np.asarray(outputs), gradients, statistics))
    (ours, our_gradients, our_statistics), (expected, gradients, statistics) = results
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
    for actual, wanted in zip(our_gradients, gradients):
        np.testing.assert_allclose(np.asarray(actual), np.asarray(wanted), rtol=1e-4, atol=1e-4 * np.abs(wanted).max())
    assert len(our_statistics) == len(statistics) == 4
    for actual, wanted in zip(our_statistics, statistics):
        np.testing.assert_allclose(actual, wanted, rtol=1e-6, atol=1e-6)


def test_remat_recomputes_in_the_backward_pass_only_when_training():
    """remat=True runs the layer's convolutions again in the backward pass (training calls); inference
    calls and remat=False run them once: catches remat silently not applied."""
    features = [tf.constant(f) for f in _inputs()]
    for remat, training, expected_runs in ((False, True, 1), (True, True, 2), (True, False, 1)):
        layer = DenseNetLayer(GROWTH, BN_SIZE, remat=remat)
        model = _model(layer)
        runs = []
        original = layer.conv2.call
        layer.conv2.call = lambda *args, **kwargs: runs.append(1) or original(*args, **kwargs)
        with tf.GradientTape() as tape:
            tape.watch(features)
            loss = tf.reduce_sum(model(features, training=training))
        tape.gradient(loss, features + model.trainable_weights)
        assert len(runs) == expected_runs, (remat, training, len(runs))


@pytest.mark.parametrize("remat", [False, True])
def test_keras_layer_contract(remat):
    """One input map (the first layer of a block), config round trip, a model.fit step (tf.function:
    remat in graph mode), mixed_float16 outputs and gradients."""
    check_layer_contract(lambda: DenseNetLayer(4, bn_size=2, remat=remat), (6, 6, 5), expected_weights=10)


@pytest.mark.parametrize("kwargs,match", [
    (dict(growth_rate=0), "growth_rate=0"),
    (dict(growth_rate=4, bn_size=1.5), "bn_size=1.5"),
    (dict(growth_rate=4, remat="yes"), "remat='yes'"),
])
def test_bad_arguments_name_the_received_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenseNetLayer(**kwargs)
