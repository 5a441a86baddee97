"""mixed_bfloat16 / mixed_float16 train with finite losses and float32 outputs."""

import keras
import numpy as np
import pytest

from keras_resfamily.training import make_config, prepare


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_finite_loss_and_float32_logits(precision):
    cfg = make_config(model="ResNet18", data="digits", precision=precision, batch_size=16, verbose=0,
                      validation_steps=2)
    run = prepare(cfg)
    history = run.model.fit(run.train_data, epochs=1, steps_per_epoch=3, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    compute = "bfloat16" if precision == "mixed_bfloat16" else "float16"
    assert run.model.get_layer("conv1").compute_dtype == compute
    assert run.model.get_layer("conv1").kernel.dtype == "float32"  # master weights stay float32
    images, _ = next(iter(run.val_data))
    logits = run.model(images[:4], training=False)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(logits)))
    loss_scaled = isinstance(run.model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert loss_scaled == (precision == "mixed_float16")
