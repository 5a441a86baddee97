"""BatchNorm: Keras' BatchNormalization, with float32 inference as one FusedBatchNormV3 op on TensorFlow."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from keras_resfamily.layers import BatchNorm
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)


def _pair(**kwargs):
    """(ours, Keras') built on 6 channels with the same random gamma, beta and moving statistics."""
    ours, theirs = BatchNorm(**kwargs), keras.layers.BatchNormalization(**kwargs)
    for layer in (ours, theirs):
        layer.build((None, 5, 7, 6))
    for variable, other in zip(ours.weights, theirs.weights):
        low = 0.5 if "variance" in variable.path or "gamma" in variable.path else -1.0
        value = RNG.uniform(low, 1.5, variable.shape).astype("float32")
        variable.assign(value)
        other.assign(value)
    return ours, theirs


def _graph_ops(layer, x, training):
    spec = tf.TensorSpec(x.shape, x.dtype)
    graph = tf.function(lambda x: layer(x, training=training)).get_concrete_function(spec).graph
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("options", [{}, {"scale": False}, {"center": False}, {"epsilon": 1e-5, "momentum": 0.9}])
def test_inference_is_one_fused_op_equal_to_keras(options):
    ours, theirs = _pair(**options)
    x = RNG.normal(size=(2, 5, 7, 6)).astype("float32") * 3.0
    np.testing.assert_allclose(np.asarray(ours(x, training=False)), np.asarray(theirs(x, training=False)),
                               rtol=1e-6, atol=1e-6)
    assert "FusedBatchNormV3" in _graph_ops(ours, x, training=False)
    assert "FusedBatchNormV3" not in _graph_ops(ours, x, training=True)  # training: Keras' own path


def test_training_and_frozen_layers_behave_as_keras():
    ours, theirs = _pair()
    x = RNG.normal(size=(4, 5, 7, 6)).astype("float32")
    np.testing.assert_array_equal(np.asarray(ours(x, training=True)), np.asarray(theirs(x, training=True)))
    np.testing.assert_array_equal(np.asarray(ours.moving_mean), np.asarray(theirs.moving_mean))
    np.testing.assert_array_equal(np.asarray(ours.moving_variance), np.asarray(theirs.moving_variance))
    ours.trainable = theirs.trainable = False  # a frozen BN normalises with its moving statistics
    np.testing.assert_allclose(np.asarray(ours(x, training=True)), np.asarray(theirs(x, training=True)),
                               rtol=1e-6, atol=1e-6)


def test_bfloat16_inference_is_fused_and_within_one_ulp_of_keras():
    """mixed_bfloat16: both normalise in float32 and round once; the order of the float32 arithmetic
    differs, so a result may round to the neighbouring bfloat16 value (2**-7 relative)."""
    keras.config.set_dtype_policy("mixed_bfloat16")
    ours, theirs = _pair()
    x = tf.cast(RNG.normal(size=(2, 5, 7, 6)) * 3.0, "bfloat16")
    assert "FusedBatchNormV3" in _graph_ops(ours, x, training=False)
    actual, expected = ours(x, training=False), theirs(x, training=False)
    assert keras.backend.standardize_dtype(actual.dtype) == "bfloat16"
    actual, expected = (np.asarray(tf.cast(t, "float32")) for t in (actual, expected))
    np.testing.assert_allclose(actual, expected, rtol=2.0**-7, atol=1e-6)


def test_float16_inputs_take_keras_path():
    keras.config.set_dtype_policy("mixed_float16")
    ours = BatchNorm()
    x = RNG.normal(size=(2, 5, 7, 6)).astype("float16")
    assert "FusedBatchNormV3" not in _graph_ops(ours, x, training=False)
    assert keras.backend.standardize_dtype(ours(x, training=False).dtype) == "float16"


def test_keras_layer_contract():
    check_layer_contract(lambda: BatchNorm(momentum=0.9, epsilon=1e-5), (5, 6, 4), expected_weights=4)
