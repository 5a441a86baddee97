"""Every registered model: timm parity, parameter counts, forward/backward, pooling, precision, save/reload."""

import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_resfamily as kr
from keras.src.backend.common import global_state
from keras_resfamily.builder import build_model_and_features
from keras_resfamily.graph_walk import functional_model, walk_depth
from keras_resfamily.model_stats import model_stats
from model_cases import (
    ALL_SPECS, CODE_PATH_SPECS, FAMILY_SPECS, FLOAT16_TRAIN_SPECS, PAPER_SPECS, REFERENCE_SPECS, cases, small_input_size,
    trainable_params,
)

# NumPy's global generator, reseeded for each test by conftest's `_seeded`: a test's inputs do not
# depend on which tests ran before it in the same worker.
RNG = np.random


def assert_backend_safe_names(model):
    """Names are reference paths with '-' for '.': torch-backend variable paths may not contain '.'."""
    dotted = [v.path for v in model.weights if "." in v.path]
    assert not dotted, f"layer names must write the reference path's '.' as '-' (layouts.py): {dotted[:5]}"


# The .keras file round trip (zip + HDF5) runs on the smallest model of every code path; the other
# models round-trip their serialized config in memory and compute with the original weights: the same
# deserialization, without the file (ResNetRS420: 36 s through the file, 16 s in memory, 2-core AVX2 VM)
# and without creating the reloaded variables in TensorFlow (their initializers' draws, overwritten at
# once, were most of it): DenseNet121 1.04 -> 0.51 s, DPN68b 0.79 -> 0.30 s, ResNet50 0.87 -> 0.32 s (Zen 4 VM).
THROUGH_FILE = {spec.name for spec in CODE_PATH_SPECS}


def _nested(frames, call):
    return call() if frames == 0 else _nested(frames - 1, call)


def at_stack_depth(frames, call):
    """call() at Python's default recursion limit, `frames` deeper, as from a notebook or a deeper program.

    The limit is set here: with IPython installed, importing TensorFlow imports jedi, which raises it
    to 3000 and would hide a graph too deep for the default.
    """
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        return _nested(frames, call)
    finally:
        sys.setrecursionlimit(previous)


# Keras builds and reloads a functional model with a recursive graph walk (one frame per node on
# its path); with this bound a model still builds and reloads from a 200-frame-deep caller below
# Python's default recursion limit of 1000. Deepest today: ResNetRS420, 306 frames.
MAX_WALK_DEPTH = 400


def build_float16_then_float32(spec, **kwargs):
    """Build the model once, from a caller stack 200 frames deep, under mixed_float16 (as users do):
    check its feature maps in float16, then switch it to float32 for the float32 checks.

    Every layer that took the global policy then computes in float32, and those built in float32
    stay so: the model computes what a float32 build does (the reload checks: it deserializes a
    genuine float32 build from the model's config and must give bit-equal outputs). One build per
    model instead of a float32 model, a float16 features_only model and the reload.
    """
    keras.config.set_dtype_policy("mixed_float16")
    model, features = at_stack_depth(200, lambda: build_model_and_features(spec.name, **kwargs))
    depth = walk_depth(model.outputs)
    assert depth <= MAX_WALK_DEPTH, f"{spec.name}: Keras' graph walk is {depth} frames deep (> {MAX_WALK_DEPTH})"
    assert_backend_safe_names(model)
    assert_kernels_start_different(model)
    assert_float16_feature_maps(spec, functional_model(model.inputs[0], features, "features"))
    keras.config.set_dtype_policy("float32")
    for layer in model._flatten_layers(include_self=False):
        if layer.dtype_policy.name == "mixed_float16":
            layer.dtype_policy = "float32"
    return model


def assert_float16_feature_maps(spec, features_model):
    """The stride maps on a non-square input under mixed_float16: finite float16 maps, one per stride
    level, each the size the spec's arithmetic gives (input / stride rounded up for 'same'-padded trunks)."""
    size = small_input_size(spec)
    height, width = size, size + 16
    features = features_model(_images(2, height, width), training=False)
    assert features and all(key.startswith("stride") for key in features), list(features)
    for key, value in features.items():
        stride = int(key[len("stride"):])
        expected = (2, spec.feature_map_size(height, stride), spec.feature_map_size(width, stride))
        assert tuple(value.shape[:3]) == expected, (key, value.shape)
        assert keras.backend.standardize_dtype(value.dtype) == "float16"
        assert np.all(np.isfinite(np.asarray(keras.ops.cast(value, "float32")))), key
    assert max(int(k[len("stride"):]) for k in features) == spec.output_stride or spec.default_size <= 32


def assert_save_reload_equal(model, spec, images, expected, tmp_path):
    if spec.name in THROUGH_FILE:
        model.save(tmp_path / "model.keras")
        reloaded = at_stack_depth(200, lambda: keras.models.load_model(tmp_path / "model.keras"))
        np.testing.assert_array_equal(np.asarray(reloaded(images, training=False)), expected)
        return
    config = keras.saving.serialize_keras_object(model)
    # A StatelessScope defers the new variables (no initializer runs) and maps each to the original's value.
    with keras.StatelessScope(initialize_variables=False) as scope:
        reloaded = at_stack_depth(200, lambda: keras.saving.deserialize_keras_object(config))
        assert [v.path for v in reloaded.weights] == [v.path for v in model.weights]
        for new, old in zip(reloaded.weights, model.weights):
            scope.add_update((new, old.value))
        actual = np.asarray(reloaded(images, training=False))
    # Keras keeps deferred variables in a global list for the next scope to initialise: drop the reload's.
    global_state.set_global_attribute("uninitialized_variables", [])
    np.testing.assert_array_equal(actual, expected)


# GlobalContext's attention logits feed a softmax over positions: a constant added to all of them
# (this bias) cancels, so its gradient is zero by design (timm's module has the same bias).
SHIFT_INVARIANT = ("conv_attn/bias",)


def assert_every_weight_gets_a_gradient(model, spec):
    """One training-mode forward and backward on a non-square batch: finite, non-zero gradients.

    Needs no all-zero initial weights (random timm weights, or `randomize_zero_weights`): a branch
    closed by a zero-initialised BN scale or convolution passes no gradient to its other weights.
    """
    images = tf.constant(_images(2, spec.min_size, spec.min_size + 16))
    with tf.GradientTape() as tape:
        outputs = model(images, training=True)
        loss = tf.reduce_sum(tf.cast(outputs, "float32") * RNG.normal(size=outputs.shape).astype("float32"))
    gradients = dict(zip((v.path for v in model.trainable_weights),
                         tape.gradient(loss, model.trainable_weights)))
    missing = [path for path, g in gradients.items() if g is None]
    assert not missing, f"no gradient reaches {missing[:5]}"
    not_finite = [path for path, g in gradients.items() if not np.all(np.isfinite(g))]
    assert not not_finite, f"non-finite gradients: {not_finite[:5]}"
    zero = [path for path, g in gradients.items() if not np.any(np.asarray(g)) and not path.endswith(SHIFT_INVARIANT)]
    assert not zero, f"zero gradients: {zero[:5]}"


def randomize_zero_weights(model):
    """Random values for the zero-initialised weights (residual-closing BN scales and convs, biases)."""
    for variable in model.trainable_weights:
        if not np.any(np.asarray(variable)):
            low, high = (0.5, 1.5) if variable.path.endswith("/gamma") else (-0.1, 0.1)
            variable.assign(RNG.uniform(low, high, size=variable.shape).astype("float32"))


def assert_kernels_start_different(model):
    """No two randomly initialised kernels start equal (one shared unseeded Keras initializer
    instance gives every same-shaped layer the same values: ResNet50's layer3-1-conv1 == layer3-2-conv1)."""
    seen = {}
    for variable in model.weights:
        value = np.asarray(variable)
        if value.ndim < 2 or np.all(value == value.flat[0]):
            continue  # constant initialisers (zeros, ones) are equal by design
        key = (value.shape, value.tobytes())
        assert key not in seen, f"{variable.path} starts equal to {seen[key]}"
        seen[key] = variable.path


def assert_listed_params(model, spec):
    """`keras-resfamily list` / `info` show data/model_stats.json: its count must be the built model's."""
    built, listed = trainable_params(model), model_stats()[spec.name]["params"]
    assert built == listed, (f"{spec.name} has {built} trainable parameters, data/model_stats.json lists {listed}: "
                             f"rerun python -m keras_resfamily.model_stats --models {spec.name}")


def _images(batch, height, width, channels=3):
    return RNG.normal(size=(batch, height, width, channels)).astype("float32")


@pytest.mark.parametrize("spec", cases(REFERENCE_SPECS))
def test_timm_parity_save_reload_and_backward(spec, tmp_path):
    """Random reference weights (BN statistics too) load by name; outputs and parameter counts equal the
    reference's (timm, or torchvision for rows whose reference is torchvision's). The same build's
    feature maps run in float16 first (`build_float16_then_float32`)."""
    pytest.importorskip("timm")
    from timm_reference import randomized_reference_model, timm_forward, timm_trainable_params

    reference = randomized_reference_model(spec, seed=1)
    model = build_float16_then_float32(spec, classifier_activation=None)
    kr.load_timm_state_dict(model, reference.state_dict())
    assert trainable_params(model) == timm_trainable_params(reference)
    assert_listed_params(model, spec)

    size = max(64, spec.min_size)
    images = _images(2, size, size)
    expected = timm_forward(reference, images)
    del reference
    actual = np.asarray(model(images, training=False))
    rel = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
    assert rel <= 1e-4, f"{spec.name} vs {spec.reference_label}: max relative error {rel:.2e}"

    assert_save_reload_equal(model, spec, images, actual, tmp_path)
    assert_every_weight_gets_a_gradient(model, spec)


@pytest.mark.parametrize("spec", cases([s for s in ALL_SPECS if not s.reference]))
def test_paper_model_forward_save_reload_and_backward(spec, tmp_path):
    model = build_float16_then_float32(spec)
    assert_listed_params(model, spec)
    size = small_input_size(spec)
    images = _images(2, size, size)
    probs = np.asarray(model(images, training=False))
    assert probs.shape == (2, spec.num_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert_save_reload_equal(model, spec, images, probs, tmp_path)
    randomize_zero_weights(model)
    assert_every_weight_gets_a_gradient(model, spec)


@pytest.mark.parametrize("spec", cases(PAPER_SPECS))
def test_parameter_count_matches_paper(spec):
    """Papers print millions to one decimal (rounded or truncated): we must be within that digit."""
    model = kr.create_model(spec.name, classes=spec.num_classes)
    millions = trainable_params(model) / 1e6
    assert abs(millions - spec.paper_params_millions) < 0.1, (spec.name, millions, spec.paper_params_millions)


def _train_height(spec):
    """The smallest height the model trains on (`min_train_size` or `min_size`) whose last feature map
    is at least 2 pixels high: training-mode BN over 1-pixel maps overflowed float16 steps
    (MobileNetV2_035 at 32x48: 2 of 16 seeds skipped every step; at 33x49: 16 of 16 trained)."""
    height = spec.min_train_size or spec.min_size
    while spec.default_size > 32 and spec.feature_map_size(height, spec.output_stride) < 2:
        height += 1
    return height


def _fit_steps_and_check(spec, policy, steps):
    """classes=7, 1-channel non-square input, drop path: `steps` eager fit steps of batch 2 under `policy`.

    The smallest input the model trains on (`_train_height` x that + 16) and eager steps keep this cheap
    (tracing a train graph per model would dominate the suite). Under float16 the loss scale starts
    at 2**5, not Keras' 2**15: at initialisation, on these few-pixel inputs, activation gradients
    reach ~300 (RepVGG_A0, float32, 4 seeds), so any scale above ~2**7 overflows float16 and the
    scaler (correctly) skips steps; from 2**10, all three steps were skipped for 2 of 12 seeds.
    From 2**5, 12 of 12 seeds applied every step.
    """
    keras.config.set_dtype_policy(policy)
    height = _train_height(spec)
    width = height + 16
    model = kr.create_model(spec.name, classes=7, input_shape=(height, width, 1), drop_path_rate=0.1)
    optimizer = keras.optimizers.SGD(0.01)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=2.0**5)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", run_eagerly=True)
    images, labels = _images(2 * steps, height, width, 1), np.arange(2 * steps) % 7
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(images, labels, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = sum(not np.array_equal(b, np.array(w)) for b, w in zip(before, model.trainable_weights))
    assert changed > len(before) // 2, f"only {changed} of {len(before)} variables were updated"
    probs = model(images[:2], training=False)
    assert probs.shape == (2, 7) and keras.backend.standardize_dtype(probs.dtype) == "float32"
    assert np.all(np.isfinite(np.asarray(probs)))


@pytest.mark.parametrize("spec", cases([s for s in CODE_PATH_SPECS if s not in FLOAT16_TRAIN_SPECS]))
def test_train_steps_mixed_bfloat16_one_channel_non_square(spec):
    """Every code path trains under one mixed policy: bfloat16 here, float16 for the models of
    FLOAT16_TRAIN_SPECS (the same checks; both policies on those took ~200 s more per suite run).

    Two steps: the zero-initialised BNs closing the residual branches pass no gradient to the
    branch convs until the first step has moved them off zero.
    """
    _fit_steps_and_check(spec, "mixed_bfloat16", steps=2)


@pytest.mark.parametrize("spec", cases(FLOAT16_TRAIN_SPECS))
def test_train_steps_mixed_float16(spec):
    """float16's range is what breaks (skipped steps, inf activations): one model per block kind.

    TensorFlow's CPU kernels compute float16 convolution gradients ~14x slower than bfloat16 ones,
    so float16 training runs on FLOAT16_TRAIN_SPECS (model_cases.py).
    """
    _fit_steps_and_check(spec, "mixed_float16", steps=3)


def _headless_forward_and_check(spec, pooling, policy):
    keras.config.set_dtype_policy(policy)
    size = small_input_size(spec)
    inputs = keras.Input((size, size, 3))
    model = kr.create_model(spec.name, include_top=False, input_tensor=inputs, pooling=pooling)
    assert model.inputs[0] is inputs
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Keras' "structure of `inputs` doesn't match"
        out = model(_images(2, size, size), training=False)
    if pooling is None:
        assert len(out.shape) == 4 and out.shape[0] == 2
    else:
        assert len(out.shape) == 2 and keras.backend.standardize_dtype(out.dtype) == "float32"
    assert np.all(np.isfinite(np.asarray(keras.ops.cast(out, "float32")))), (pooling, policy)


@pytest.mark.parametrize("spec", cases(FAMILY_SPECS))
def test_features_only_model_under_float16(spec):
    """`features_only=True` (the shared builder's path, once per family): the stride maps alone."""
    keras.config.set_dtype_policy("mixed_float16")
    assert_float16_feature_maps(spec, kr.create_model(spec.name, features_only=True))


@pytest.mark.parametrize("spec", cases(FAMILY_SPECS))
def test_headless_forward_input_tensor_poolings(spec):
    """include_top=False with an input tensor: avg pooling in float16, the unpooled map in bfloat16."""
    _headless_forward_and_check(spec, "avg", "mixed_float16")
    _headless_forward_and_check(spec, None, "mixed_bfloat16")


def test_headless_max_pooling_in_bfloat16():
    """The shared builder's max pooling (one family's trunk is enough: the pooling layer is shared)."""
    _headless_forward_and_check(kr.get_spec("ResNet18"), "max", "mixed_bfloat16")


@pytest.mark.parametrize("name", ["ResNet18", "ResNet50V2", "SEResNeXt50_32x4d"])
def test_classifier_output_is_float32_under_mixed_bfloat16(name):
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = kr.create_model(name)
    probs = model(_images(1, 64, 64), training=False)
    assert keras.backend.standardize_dtype(probs.dtype) == "float32"
    assert np.all(np.isfinite(np.asarray(probs)))
