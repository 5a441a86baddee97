"""The densenet family beyond the registry-driven tests: remat (gradients, BN statistics, model.fit,
mixed precision, errors), timm's feature maps at an odd size (floor-mode transitions), torchvision =
timm, keras.applications' parameter counts, and the remat memory benchmark's plumbing."""

import os
import sys

import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_resfamily as kr
from keras_resfamily import validation
from keras_resfamily.families.densenet.spec import DenseNetSpec
from model_cases import trainable_params

RNG = np.random.default_rng(0)
# A two-block DenseNet (stem, 2 + 2 dense layers, one transition): the model-level remat paths in
# seconds instead of DenseNet121's ~30 s train-step trace.
TINY = DenseNetSpec(name="TinyDenseNet", family="DenseNet", growth_rate=4, block_config=(2, 2), bn_size=2)


def _pair(spec, **kwargs):
    """(remat=False model, remat=True model) with the same weights, random BN statistics included."""
    plain = kr.create_model(spec, **kwargs)
    for variable in plain.non_trainable_weights:
        low, high = (0.5, 1.5) if "moving_variance" in variable.path else (-0.2, 0.2)
        variable.assign(RNG.uniform(low, high, variable.shape).astype("float32"))
    remat = kr.create_model(spec, remat=True, **kwargs)
    assert [v.path for v in remat.weights] == [v.path for v in plain.weights]  # weights are interchangeable
    remat.set_weights(plain.get_weights())
    return plain, remat


def test_remat_gives_the_same_gradients_and_moving_statistics():
    """DenseNet121, one training-mode forward and backward: remat=True gives remat=False's gradients
    (every weight and the input) and the same BN moving statistics afterwards. Catches remat changing
    the computation, and a recomputation that updates the moving averages a second time.

    In float64 (the float32 head aside): float32 rounding of the sums over batch and pixels differs
    between the two graphs by ~1e-6 of a gradient's scale, which cancellation turns into 3% of
    norm0's tiny scale gradient; in float64 every gradient agrees to 1e-10."""
    keras.config.set_dtype_policy("float64")
    plain, remat = _pair("DenseNet121", input_shape=(32, 32, 3), classes=5)
    images = tf.constant(RNG.normal(size=(2, 32, 32, 3)))
    upstream = tf.constant(RNG.normal(size=(2, 5)))
    before = [np.asarray(v) for v in plain.non_trainable_weights]
    results = []
    for model in (plain, remat):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(tf.cast(model(images, training=True), "float64") * upstream)
        gradients = tape.gradient(loss, [images] + model.trainable_weights)
        results.append((gradients, [np.asarray(v) for v in model.non_trainable_weights]))
    (gradients, statistics), (remat_gradients, remat_statistics) = results
    for variable, expected, actual in zip(["input"] + plain.trainable_weights, gradients, remat_gradients):
        expected = np.asarray(expected)
        np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max(),
                                   err_msg=getattr(variable, "path", variable))
    assert not any(np.array_equal(b, s) for b, s in zip(before, statistics))  # every statistic moved
    for variable, expected, actual in zip(plain.non_trainable_weights, statistics, remat_statistics):
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12, err_msg=variable.path)


def test_dense_layers_take_the_running_concatenation_without_remat():
    """Inference graph: without remat every ConcatV2 joins two maps (the running concatenation and a layer's new
    channels: one wide copy per layer, as keras.applications' DenseNets; a concatenation of all earlier maps at
    once was 1.09x slower for DenseNet121 with oneDNN off); with remat each layer concatenates the list of maps
    inside its unit. Both compute the same outputs (and, above, the same gradients)."""
    plain, remat = _pair(TINY, input_shape=(32, 32, 3), classes=3)
    images = tf.constant(RNG.normal(size=(2, 32, 32, 3)).astype("float32"))
    inputs = {}
    for model in (plain, remat):
        graph = tf.function(lambda x, model=model: model(x, training=False)).get_concrete_function(images).graph
        inputs[model] = sorted(len(op.inputs) - 1 for op in graph.get_operations() if op.type == "ConcatV2")
    assert inputs[plain] == [2] * 4  # 2 + 2 dense layers
    assert inputs[remat] == [2, 2, 3, 3]  # inside layer 2 of each block, and each block's output
    np.testing.assert_allclose(np.asarray(remat(images)), np.asarray(plain(images)), rtol=1e-6, atol=1e-6)


def _fit_one_step(model, images, labels, policy):
    optimizer = keras.optimizers.SGD(0.1)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=2.0 ** 5)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", jit_compile=False)
    history = model.fit(images, labels, batch_size=len(images), epochs=1, verbose=0)
    return history.history["loss"][0], [np.asarray(v) for v in model.weights]


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_remat_inside_model_fit(policy):
    """One model.fit step (a tf.function: tf.recompute_grad in graph mode) with remat=True ends with the
    weights and BN statistics of the same step without remat, in float32 and under mixed_float16:
    catches graph-mode recomputation that changes gradients or updates BN twice, and remat failing
    with float16 activations."""
    keras.config.set_dtype_policy(policy)
    plain, remat = _pair(TINY, input_shape=(32, 32, 3), classes=3)
    images, labels = RNG.normal(size=(4, 32, 32, 3)).astype("float32"), np.array([0, 1, 2, 0])
    before = [np.asarray(v) for v in plain.weights]
    loss, weights = _fit_one_step(plain, images, labels, policy)
    remat_loss, remat_weights = _fit_one_step(remat, images, labels, policy)
    assert np.isfinite(loss) and abs(remat_loss - loss) <= 1e-3 * abs(loss)
    assert sum(not np.array_equal(b, w) for b, w in zip(before, weights)) > len(before) // 2
    tolerance = 1e-5 if policy == "float32" else 2e-3  # float16 activations round differently per graph
    for variable, expected, actual in zip(plain.weights, weights, remat_weights):
        np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance, err_msg=variable.path)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_bad_remat_values(value):
    with pytest.raises(ValueError, match=rf"`remat` must be True or False\. Received: remat={value!r}"):
        kr.DenseNet121(remat=value)


def test_remat_needs_keras_remat_and_a_differentiable_backend(monkeypatch):
    """validation.check_remat's errors reach the constructor before anything is built (Keras without
    `keras.remat`, a backend without gradients); remat=False needs neither."""
    monkeypatch.delattr(keras, "remat")
    with pytest.raises(ValueError, match=r"needs `keras\.remat` \(Keras 3\.9 or newer\)\. Received: remat=True"):
        kr.DenseNet121(remat=True)
    monkeypatch.undo()
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    with pytest.raises(ValueError, match=r"Received: remat=True with backend 'numpy'"):
        kr.create_model("densenet121", remat=True)
    validation.check_remat(False)


def test_feature_maps_match_timm_at_an_odd_size():
    """features_only maps equal timm's (`features_only=True`: stem, dense blocks before their
    transitions, norm5) on a non-square odd input, whose sizes `feature_map_size` gives: catches ceil
    arithmetic in the 2x2 transitions (timm floors: 9 -> 4) and a tap in the wrong place."""
    pytest.importorskip("timm")
    from timm_reference import randomized_timm_model

    height, width = 67, 73  # stride 4: 17 x 19; the transitions floor 17 -> 8 -> 4 -> 2 and 19 -> 9 -> 4 -> 2
    reference = randomized_timm_model("densenet121", seed=2, features_only=True)
    model = kr.DenseNet121(features_only=True, input_shape=(height, width, 3))
    # timm's feature wrapper flattens `features.conv0` to `features_conv0`.
    state = {key.replace("features_", "features.", 1): value for key, value in reference.state_dict().items()}
    kr.load_timm_state_dict(model, state)
    images = RNG.normal(size=(1, height, width, 3)).astype("float32")
    import torch

    with torch.no_grad():
        expected = [f.numpy().transpose(0, 2, 3, 1) for f in reference(torch.from_numpy(images.transpose(0, 3, 1, 2)))]
    actual = model(images)
    spec = kr.get_spec("DenseNet121")
    assert sorted(actual, key=lambda k: int(k[6:])) == [f"stride{r}" for r in reference.feature_info.reduction()]
    for (key, value), wanted in zip(sorted(actual.items(), key=lambda item: int(item[0][6:])), expected):
        stride = int(key[6:])
        assert value.shape[1:3] == wanted.shape[1:3] == (spec.feature_map_size(height, stride),
                                                         spec.feature_map_size(width, stride)), key
        np.testing.assert_allclose(np.asarray(value), wanted, atol=1e-4 * np.abs(wanted).max(), err_msg=key)


@pytest.mark.parametrize("name", ["densenet121", "densenet161"])
def test_torchvision_densenets_are_timms(name):
    """torchvision's DenseNet has timm's state_dict names and computes timm's outputs from them, so the
    timm rows cover torchvision's models (rows/densenet.py): catches either library diverging. Both
    growth rates; 169 and 201 are the same classes with other layer counts."""
    pytest.importorskip("timm")
    import torchvision
    from timm_reference import randomized_timm_model, timm_forward

    reference = randomized_timm_model(name, seed=3)
    theirs = getattr(torchvision.models, name)(weights=None).eval()
    assert list(theirs.state_dict()) == list(reference.state_dict())
    theirs.load_state_dict(reference.state_dict())
    images = RNG.normal(size=(1, 35, 41, 3)).astype("float32")
    np.testing.assert_allclose(timm_forward(theirs, images), timm_forward(reference, images), rtol=0, atol=1e-6)


def test_parameter_counts_equal_keras_applications():
    """DenseNet121 without its top: the trainable (and BN-statistics) counts of keras.applications'
    DenseNet121, which has the same architecture (its BN epsilon differs: 1.001e-5)."""
    ours = kr.DenseNet121(include_top=False, input_shape=(32, 32, 3))
    theirs = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(32, 32, 3))
    assert trainable_params(ours) == trainable_params(theirs) == 6_953_856
    assert ours.count_params() == theirs.count_params()


def _benchmark():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(root, "benchmarks"))
    try:
        import remat_memory
    finally:
        sys.path.pop(0)
    return remat_memory


def test_remat_memory_benchmark_arguments_and_tiny_run():
    """benchmarks/remat_memory.py: its arguments, its table, and its measurement on the tiny model in
    this process (a real run starts one process per setting; DenseNet121's train step takes ~30 s to trace)."""
    bench = _benchmark()
    args = bench.parse_args(["--models", "DenseNet121", "DenseNet169", "--batch-size", "2", "--size", "32"])
    assert (args.models, args.batch_size, args.size, args.steps, args.worker) == (
        ["DenseNet121", "DenseNet169"], 2, 32, 1, None)
    assert bench.parse_args([]).models == ["DenseNet121"]
    for bad in (["--models", "ResNet50"], ["--batch-size", "0"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)
    result = bench.measure(TINY, True, batch_size=2, size=32, steps=1, threads=0)
    # In this (already large) process the heap may absorb the tiny model: only the plumbing is checked.
    assert set(result) == {"peak_mib", "warmup_peak_mib", "step_s", "loss", "peak_reset"}
    assert np.isfinite(result["peak_mib"]) and result["step_s"] > 0 and np.isfinite(result["loss"])
    plain = dict(result, peak_mib=2 * result["peak_mib"])
    lines = bench.table({("Tiny", False): plain, ("Tiny", True): result}).splitlines()
    assert lines[0].startswith("| Model | remat | Peak MiB") and lines[-1].split("|")[-2].strip() == "50.0"
