"""Conv2D whose grouped form runs as per-group convolutions where that is much faster (CPU)."""

import functools

import keras
from keras import ops


@functools.lru_cache(maxsize=None)
def split_groups_is_faster():
    """True where Keras' native grouped convolution is slow: TensorFlow or JAX on CPU only.

    Both run a grouped convolution through XLA; on CPU (batch 8, 56x56, 128 channels, 32 groups,
    benchmarks/grouped_conv.py) TensorFlow took 88 ms forward and 15 s forward+backward against
    34 ms / 42 ms for per-group convolutions, and JAX 203 ms / 13 s against 113 ms / 202 ms.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return not tf.config.list_logical_devices("GPU")
    if backend == "jax":
        import jax

        return jax.default_backend() == "cpu"
    return False


@keras.saving.register_keras_serializable(package="keras_resfamily")
class GroupedConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with identical variables and outputs; only the grouped op differs.

    With `groups > 1` on TensorFlow / JAX without a GPU, the input and kernel are split into the groups
    and each group is an ordinary convolution (exact: the same sums in the same order per group).
    The kernel keeps Conv2D's (kh, kw, in / groups, out) layout, so checkpoints and the timm
    converter treat it as a Conv2D.
    """

    def convolution_op(self, inputs, kernel):
        if self.groups == 1 or not split_groups_is_faster():
            return super().convolution_op(inputs, kernel)
        channel_axis = -1 if self.data_format == "channels_last" else 1
        pieces = zip(ops.split(inputs, self.groups, axis=channel_axis), ops.split(kernel, self.groups, axis=-1))
        outputs = [
            ops.conv(x, k, strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate,
                     data_format=self.data_format)
            for x, k in pieces
        ]
        return ops.concatenate(outputs, axis=channel_axis)
