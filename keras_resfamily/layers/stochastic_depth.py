"""Stochastic depth / drop path (Huang et al., 2016) on a residual branch."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_resfamily")
class StochasticDepth(keras.layers.Layer):
    """Drops the whole residual branch per sample with probability `rate` while training.

    Kept samples are scaled by 1 / (1 - rate) so the expectation is unchanged; at inference it
    is the identity. Randomness comes from a `SeedGenerator`, so runs are reproducible with a
    seed and traceable under XLA.
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"`rate` must be in [0, 1); received rate={rate}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        keep = 1.0 - self.rate
        shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        mask = keras.random.uniform(shape, seed=self.seed_generator, dtype=inputs.dtype) < keep
        return ops.where(mask, inputs / ops.cast(keep, inputs.dtype), ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config
