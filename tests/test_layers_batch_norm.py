"""BatchNorm: Keras' BatchNormalization, with float32 inference as one FusedBatchNormV3 op on TensorFlow."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from keras_resfamily.bench.macs import _ops_the_outputs_use as used_ops  # what grappler keeps
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


def _depthwise_conv(strides, padding):
    """A depthwise conv on 3 channels with multiplier 2 (6 outputs: the BN pair's channels), random kernel."""
    conv = keras.layers.DepthwiseConv2D(3, strides, padding=padding, depth_multiplier=2, use_bias=False)
    conv.build((None, 9, 9, 3))
    conv.kernel.assign(RNG.normal(size=conv.kernel.shape).astype("float32"))
    return conv


@pytest.mark.parametrize("strides,padding", [(1, "same"), (2, "same"), (2, "valid")])
def test_graph_inference_after_a_depthwise_conv_folds_into_it_and_equals_keras(strides, padding):
    """In a graph, BN(depthwise(x)) runs as depthwise(x, kernel * scale) + offset: no FusedBatchNormV3 left
    for grappler to leave unfused (it fuses none into a depthwise conv)."""
    (ours, theirs), conv = _pair(), _depthwise_conv(strides, padding)
    x = RNG.normal(size=(2, 9, 9, 3)).astype("float32") * 3.0
    graph = tf.function(lambda x: ours(conv(x), training=False)).get_concrete_function(
        tf.TensorSpec(x.shape, x.dtype)).graph
    output = graph.outputs[0].op
    while output.type == "Identity":
        output = output.inputs[0].op
    assert output.type == "BiasAdd" and output.inputs[0].op.type == "DepthwiseConv2dNative"
    assert "FusedBatchNormV3" not in {op.type for op in graph.get_operations()}
    expected = np.asarray(theirs(conv(x), training=False))
    actual = np.asarray(tf.function(lambda x: ours(conv(x), training=False))(x))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def _assert_frozen_norm_trains_the_conv_as_keras(ours, theirs, conv, x, pad=lambda x: x):
    """A frozen BN (fine-tuning) in a graph: loss and the conv's kernel gradient through `ours(conv(pad(x)))`
    equal Keras' layer's."""
    ours.trainable = theirs.trainable = False

    @tf.function
    def gradients(norm):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(norm(conv(pad(x)), training=True)))
        return loss, tape.gradient(loss, conv.kernel)

    (loss, grad), (expected_loss, expected_grad) = gradients(ours), gradients(theirs)
    np.testing.assert_allclose(float(loss), float(expected_loss), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(expected_grad), rtol=1e-4, atol=1e-4)


def test_graph_frozen_norm_after_a_depthwise_conv_trains_the_conv_as_keras():
    """A frozen BN (fine-tuning) folds too: the conv's kernel gets Keras' gradient through the scaled kernel."""
    (ours, theirs), conv = _pair(), _depthwise_conv(1, "same")
    _assert_frozen_norm_trains_the_conv_as_keras(ours, theirs, conv, RNG.normal(size=(2, 9, 9, 3)).astype("float32"))


def test_explicitly_padded_depthwise_conv_keeps_the_fused_norm():
    """oneDNN's rewrite of DepthwiseConv2dNative(padding=EXPLICIT) + BiasAdd aborts the process (TF 2.21):
    after such a conv the layer keeps FusedBatchNormV3."""
    ours, theirs = _pair()
    kernel = tf.constant(RNG.normal(size=(3, 3, 3, 2)).astype("float32"))

    def forward(norm, x):
        return norm(tf.raw_ops.DepthwiseConv2dNative(input=x, filter=kernel, strides=[1, 1, 1, 1], padding="EXPLICIT",
                                                     explicit_paddings=[0, 0, 1, 1, 1, 1, 0, 0]), training=False)

    x = RNG.normal(size=(2, 9, 9, 3)).astype("float32")
    assert "FusedBatchNormV3" in {op.type for op in tf.function(lambda x: forward(ours, x)).get_concrete_function(
        tf.TensorSpec(x.shape, x.dtype)).graph.get_operations()}
    np.testing.assert_allclose(np.asarray(tf.function(lambda x: forward(ours, x))(x)),
                               np.asarray(forward(theirs, x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("onednn", [False, True])
def test_zero_padded_depthwise_conv_pads_inside_the_op_only_without_onednn(monkeypatch, onednn):
    """Without oneDNN (Eigen), BN(depthwise(pad(x), 'valid')) runs as FusedBatchNormV3(depthwise(x, EXPLICIT)):
    Eigen's Pad is a slow separate pass. Not folded (EXPLICIT + BiasAdd aborts under oneDNN, and the graph may be
    exported and served with it on). With oneDNN on, the Pad stays and the BN folds into the VALID conv."""
    from keras_resfamily.layers import batch_norm

    monkeypatch.setattr(batch_norm, "runs_on_eigen_cpu_kernels", lambda: not onednn)
    (ours, theirs), conv = _pair(), _depthwise_conv(2, "valid")
    pad = keras.layers.ZeroPadding2D(1)
    x = RNG.normal(size=(2, 9, 9, 3)).astype("float32") * 3.0
    forward = tf.function(lambda x: ours(conv(pad(x)), training=False))
    used = used_ops(forward.get_concrete_function(tf.TensorSpec(x.shape, x.dtype)).graph)
    convs = [op for op in used if op.type == "DepthwiseConv2dNative"]
    assert len(convs) == 1
    if onednn:
        assert "Pad" in {op.type for op in used} and convs[0].get_attr("padding") == b"VALID"
        assert "BiasAdd" in {op.type for op in used}
    else:
        assert "Pad" not in {op.type for op in used} and convs[0].get_attr("padding") == b"EXPLICIT"
        assert convs[0].get_attr("explicit_paddings") == [0, 0, 1, 1, 1, 1, 0, 0]
        assert "FusedBatchNormV3" in {op.type for op in used}
    np.testing.assert_allclose(np.asarray(forward(x)), np.asarray(theirs(conv(pad(x)), training=False)),
                               rtol=1e-5, atol=1e-5)

    # A frozen BN (fine-tuning): the conv's kernel gets Keras' gradient through the explicitly padded op.
    _assert_frozen_norm_trains_the_conv_as_keras(ours, theirs, conv, x, pad)


@pytest.mark.parametrize("avx2", [True, False])
def test_on_onednn_avx2_kernels_a_conv_norm_folds_into_the_conv(monkeypatch, avx2):
    """oneDNN below AVX-512 runs Conv2D fused with FusedBatchNorm 7-14x slower at batch 1 than with a bias: there
    BN(conv(x)) runs as conv(x, kernel * scale) + offset. Elsewhere grappler's Conv2D + FusedBatchNorm stays."""
    from keras_resfamily.layers import batch_norm

    monkeypatch.setattr(batch_norm, "runs_on_onednn_avx2_kernels", lambda: avx2)
    ours, theirs = _pair()
    conv = keras.layers.Conv2D(6, 3, strides=2, padding="same", use_bias=False)
    conv.build((None, 9, 9, 3))
    conv.kernel.assign(RNG.normal(size=conv.kernel.shape).astype("float32"))
    x = RNG.normal(size=(2, 9, 9, 3)).astype("float32") * 3.0
    forward = tf.function(lambda x: ours(conv(x), training=False))
    used = {op.type for op in used_ops(forward.get_concrete_function(tf.TensorSpec(x.shape, x.dtype)).graph)}
    assert ("FusedBatchNormV3" in used) != avx2 and ("BiasAdd" in used) == avx2
    np.testing.assert_allclose(np.asarray(forward(x)), np.asarray(theirs(conv(x), training=False)), rtol=1e-5,
                               atol=1e-5)

    _assert_frozen_norm_trains_the_conv_as_keras(ours, theirs, conv, x)


@pytest.mark.parametrize("cap, flags, below", [
    ("", {"avx2", "fma"}, True), ("", {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"}, False),
    ("AVX2", {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"}, True), ("", None, False),
    ("avx512_core", {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"}, False)])
def test_onednn_below_avx512_reads_the_cpu_and_the_isa_cap(monkeypatch, cap, flags, below):
    from keras_resfamily.layers import cpu_kernels

    monkeypatch.setattr(cpu_kernels, "tensorflow_onednn_enabled", lambda: True)
    monkeypatch.setattr(cpu_kernels, "cpu_flags", lambda: flags)
    monkeypatch.setattr(cpu_kernels.platform, "machine", lambda: "x86_64")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    cpu_kernels.onednn_below_avx512.cache_clear()
    try:
        assert cpu_kernels.onednn_below_avx512() is below
    finally:
        cpu_kernels.onednn_below_avx512.cache_clear()


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
