"""BatchNormalization split into a side-effect-free normalisation and its moving-average update.

A `keras.remat` unit runs its forward twice (once more in the backward pass): a Keras
BatchNormalization called inside it would update its moving statistics twice per step. Layers that
rematerialise (DenseNetLayer, DualPathBlock) normalise with `normalize` inside the unit, return the
batch moments from it, and apply `update_moving_statistics` once, outside it.
"""

import keras
from keras import ops


def uses_batch_statistics(norms, training):
    """Keras BatchNormalization's rule, per layer: batch statistics in training mode unless frozen."""
    return tuple(bool(training) and norm.trainable for norm in norms)


def normalize(norm, x, batch_stats):
    """`norm(x, training=batch_stats)` without its moving-average update: (output, (mean, variance))
    with batch statistics, (output, ()) with the moving ones. Keras BatchNormalization's training
    arithmetic (float32 for float16 inputs, biased variance)."""
    if not batch_stats:
        return norm(x, training=False), ()
    x = ops.cast(x, keras.backend.result_type(x.dtype, "float32"))
    mean, variance = ops.moments(x, axes=(0, 1, 2))
    y = ops.batch_normalization(x, mean, variance, axis=-1, offset=ops.cast(norm.beta, x.dtype),
                                scale=ops.cast(norm.gamma, x.dtype), epsilon=norm.epsilon)
    return ops.cast(y, norm.compute_dtype), (mean, variance)


def update_moving_statistics(norms, batch_stats, moments):
    """Keras BatchNormalization's training-mode update, once per step, for each norm that used batch
    statistics; `moments` holds their (mean, variance) pairs in order, flattened."""
    used = [norm for norm, flag in zip(norms, batch_stats) if flag]
    for norm, mean, variance in zip(used, moments[0::2], moments[1::2]):
        momentum = norm.momentum
        norm.moving_mean.assign(ops.cast(norm.moving_mean, mean.dtype) * momentum + mean * (1.0 - momentum))
        norm.moving_variance.assign(
            ops.cast(norm.moving_variance, variance.dtype) * momentum + variance * (1.0 - momentum))
