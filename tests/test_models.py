"""Every registered model: timm parity, parameter counts, forward/backward, pooling, precision, save/reload."""

import numpy as np
import pytest

import keras
import keras_resfamily as kr
from model_cases import (
    ALL_SPECS, FLOAT16_TRAIN_SPECS, PAPER_SPECS, REFERENCE_SPECS, cases, small_input_size, trainable_params,
)

RNG = np.random.default_rng(0)


def assert_backend_safe_names(model):
    """Names are reference paths with '-' for '.': torch-backend variable paths may not contain '.'."""
    dotted = [v.path for v in model.weights if "." in v.path]
    assert not dotted, f"layer names must write the reference path's '.' as '-' (layouts.py): {dotted[:5]}"


# Above this size a .keras round trip writes ~0.4-0.8 GB per model; those models are reloaded from
# their serialized config + weights in memory instead (the same code paths minus the zip file).
SAVE_TO_DISK_MAX_PARAMS = 100_000_000


def assert_save_reload_equal(model, images, expected, tmp_path):
    if model.count_params() <= SAVE_TO_DISK_MAX_PARAMS:
        model.save(tmp_path / "model.keras")
        reloaded = keras.models.load_model(tmp_path / "model.keras")
    else:
        reloaded = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
        reloaded.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.asarray(reloaded(images, training=False)), expected)


def _images(batch, height, width, channels=3):
    return RNG.normal(size=(batch, height, width, channels)).astype("float32")


@pytest.mark.parametrize("spec", cases(REFERENCE_SPECS))
def test_timm_parity_and_save_reload(spec, tmp_path):
    """Random timm weights (BN statistics too) load by name; outputs and parameter counts equal timm's."""
    pytest.importorskip("timm")
    from timm_reference import randomized_timm_model, timm_forward, timm_trainable_params

    reference = randomized_timm_model(spec.reference, seed=1)
    model = kr.create_model(spec.name, classifier_activation=None)
    assert_backend_safe_names(model)
    kr.load_timm_state_dict(model, reference.state_dict())
    assert trainable_params(model) == timm_trainable_params(reference)

    images = _images(2, 64, 64)
    expected = timm_forward(reference, images)
    del reference
    actual = np.asarray(model(images, training=False))
    rel = np.max(np.abs(actual - expected)) / np.max(np.abs(expected))
    assert rel <= 1e-4, f"{spec.name} vs timm {spec.reference}: max relative error {rel:.2e}"

    assert_save_reload_equal(model, images, actual, tmp_path)


@pytest.mark.parametrize("spec", cases([s for s in ALL_SPECS if not s.reference]))
def test_paper_model_forward_and_save_reload(spec, tmp_path):
    model = kr.create_model(spec.name)
    assert_backend_safe_names(model)
    size = small_input_size(spec)
    images = _images(2, size, size)
    probs = np.asarray(model(images, training=False))
    assert probs.shape == (2, spec.num_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert_save_reload_equal(model, images, probs, tmp_path)


@pytest.mark.parametrize("spec", cases(PAPER_SPECS))
def test_parameter_count_matches_paper(spec):
    """Papers print millions to one decimal (rounded or truncated): we must be within that digit."""
    model = kr.create_model(spec.name, classes=spec.num_classes)
    millions = trainable_params(model) / 1e6
    assert abs(millions - spec.paper_params_millions) < 0.1, (spec.name, millions, spec.paper_params_millions)


def _fit_steps_and_check(spec, policy, steps):
    """classes=7, 1-channel non-square input, drop path: `steps` eager fit steps of batch 2 under `policy`.

    The smallest input the model accepts (min_size x min_size + 16) and eager steps keep this cheap
    (tracing a train graph per model would dominate the suite). Under float16 the loss scale starts
    at 2**10 rather than 2**15: from 2**15 the scaler spends ~5 (correctly) skipped steps on random
    data before it applies one; three steps leave room for one more skip.
    """
    keras.config.set_dtype_policy(policy)
    height, width = spec.min_size, spec.min_size + 16
    model = kr.create_model(spec.name, classes=7, input_shape=(height, width, 1), drop_path_rate=0.1)
    optimizer = keras.optimizers.SGD(0.01)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=2.0**10)
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


@pytest.mark.parametrize("spec", cases(ALL_SPECS))
def test_train_steps_mixed_bfloat16_one_channel_non_square(spec):
    # Two steps: the zero-initialised BNs closing the residual branches pass no gradient to the
    # branch convs until the first step has moved them off zero.
    _fit_steps_and_check(spec, "mixed_bfloat16", steps=2)


@pytest.mark.parametrize("spec", cases(FLOAT16_TRAIN_SPECS))
def test_train_steps_mixed_float16(spec):
    """float16's range is what breaks (skipped steps, inf activations): one model per block kind.

    TensorFlow's CPU kernels compute float16 convolution gradients ~14x slower than bfloat16 ones,
    so float16 training runs on FLOAT16_TRAIN_SPECS (model_cases.py).
    """
    _fit_steps_and_check(spec, "mixed_float16", steps=3)


@pytest.mark.parametrize("spec", cases(ALL_SPECS))
def test_headless_mixed_precision_input_tensor_each_pooling(spec):
    """include_top=False with every pooling and input_tensor; finite outputs, pooled ones float32.

    The poolings share out the two mixed policies, so every model also runs forward in float16.
    """
    size = small_input_size(spec)
    for pooling, policy in ((None, "mixed_bfloat16"), ("avg", "mixed_float16"), ("max", "mixed_bfloat16")):
        keras.config.set_dtype_policy(policy)
        inputs = keras.Input((size, size, 3))
        model = kr.create_model(spec.name, include_top=False, input_tensor=inputs, pooling=pooling)
        assert model.inputs[0] is inputs
        out = model(_images(2, size, size), training=False)
        if pooling is None:
            assert len(out.shape) == 4 and out.shape[0] == 2
        else:
            assert len(out.shape) == 2 and keras.backend.standardize_dtype(out.dtype) == "float32"
        assert np.all(np.isfinite(np.asarray(keras.ops.cast(out, "float32")))), (pooling, policy)


@pytest.mark.parametrize("name", ["ResNet18", "ResNet50V2", "SEResNeXt50_32x4d"])
def test_classifier_output_is_float32_under_mixed_bfloat16(name):
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = kr.create_model(name)
    probs = model(_images(1, 64, 64), training=False)
    assert keras.backend.standardize_dtype(probs.dtype) == "float32"
    assert np.all(np.isfinite(np.asarray(probs)))
