"""Squeeze-and-Excitation channel attention (Hu et al., 2018)."""

import keras
from keras import ops

from keras_resfamily.layers.utils import float32_spatial_mean, make_divisible


@keras.saving.register_keras_serializable(package="keras_resfamily")
class SqueezeExcite(keras.layers.Layer):
    """Global average pool -> FC -> ReLU -> FC -> sigmoid gate on the channels.

    Matches timm's `SEModule`: the reduced width is
    `make_divisible(channels * rd_ratio, rd_divisor, round_limit=0)` unless `rd_channels` is
    given. The two FCs are `fc1`/`fc2` (Dense on the pooled vector, equivalent to 1x1 convs).

    Args:
        rd_ratio: reduction ratio of the hidden width.
        rd_channels: explicit hidden width; overrides `rd_ratio`.
        rd_divisor: hidden width is rounded to a multiple of this.
    """

    def __init__(self, rd_ratio=1.0 / 16, rd_channels=None, rd_divisor=8, **kwargs):
        super().__init__(**kwargs)
        if rd_channels is None and not 0.0 < rd_ratio <= 1.0:
            raise ValueError(f"`rd_ratio` must be in (0, 1]; received rd_ratio={rd_ratio}")
        self.rd_ratio = rd_ratio
        self.rd_channels = rd_channels
        self.rd_divisor = rd_divisor

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = self.rd_channels or make_divisible(channels * self.rd_ratio, self.rd_divisor, round_limit=0.0)
        self.fc1 = keras.layers.Dense(hidden, activation="relu", name="fc1", dtype=self.dtype_policy)
        self.fc2 = keras.layers.Dense(channels, name="fc2", dtype=self.dtype_policy)
        self.fc1.build((None, channels))
        self.fc2.build((None, hidden))

    def call(self, inputs):
        pooled = ops.cast(float32_spatial_mean(inputs), self.compute_dtype)
        gate = ops.sigmoid(self.fc2(self.fc1(pooled)))
        return inputs * gate[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rd_ratio=self.rd_ratio, rd_channels=self.rd_channels, rd_divisor=self.rd_divisor)
        return config
