"""Efficient Channel Attention (Wang et al., ECA-Net, 2020)."""

import math

import keras
from keras import ops

from keras_resfamily.layers.utils import float32_spatial_mean


def eca_kernel_size(channels, gamma=2, beta=1):
    """Adaptive odd kernel size from the channel count, as in the paper (minimum 3)."""
    t = int(abs(math.log(channels, 2) + beta) / gamma)
    return max(t if t % 2 else t + 1, 3)


@keras.saving.register_keras_serializable(package="keras_resfamily")
class EfficientChannelAttention(keras.layers.Layer):
    """Channel gate from a 1D convolution across the pooled channel vector (no reduction FC).

    Matches timm's `EcaModule`: the bias-free 1D convolution `conv` slides over channels with
    an adaptive kernel size (`eca_kernel_size`) unless `kernel_size` is given.
    """

    def __init__(self, kernel_size=None, gamma=2, beta=1, **kwargs):
        super().__init__(**kwargs)
        if kernel_size is not None and (kernel_size < 1 or kernel_size % 2 == 0):
            raise ValueError(f"`kernel_size` must be a positive odd integer; received kernel_size={kernel_size}")
        self.kernel_size = kernel_size
        self.gamma = gamma
        self.beta = beta

    def build(self, input_shape):
        k = self.kernel_size or eca_kernel_size(input_shape[-1], self.gamma, self.beta)
        self.conv = keras.layers.Conv1D(1, k, padding="same", use_bias=False, name="conv", dtype=self.dtype_policy)
        self.conv.build((None, input_shape[-1], 1))

    def call(self, inputs):
        pooled = ops.cast(float32_spatial_mean(inputs), self.compute_dtype)
        gate = ops.sigmoid(self.conv(pooled[:, :, None]))  # (B, C, 1)
        return inputs * gate[:, :, 0][:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size, gamma=self.gamma, beta=self.beta)
        return config
