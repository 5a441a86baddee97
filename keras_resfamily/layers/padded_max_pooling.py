"""Max pooling with PyTorch `nn.MaxPool2d(kernel, stride, padding, ceil_mode)` windows."""

import math

import keras
from keras import ops

from keras_resfamily.layers.cpu_kernels import runs_on_eigen_cpu_kernels


def pooled_size(size, pool_size, strides, padding, ceil_mode):
    """PyTorch's output length: with ceil_mode a last partial window is kept if it starts inside
    the input or the left padding."""
    if size is None:
        return None
    span = size + 2 * padding - pool_size
    if not ceil_mode:
        return span // strides + 1
    out = math.ceil(span / strides) + 1
    return out - 1 if (out - 1) * strides >= size + padding else out


@keras.saving.register_keras_serializable(package="keras_resfamily")
class PaddedMaxPooling2D(keras.layers.Layer):
    """Pads `padding` pixels of -inf on every side, then max-pools with 'valid' windows; with
    `ceil_mode`, the bottom / right edges get the extra -inf pixels PyTorch's ceil mode implies.

    Keras' "same" padding puts the extra pixel only at the bottom/right, which shifts the stride-2
    windows by one pixel relative to the reference models; ceil mode (GoogLeNet, SqueezeNet) equals
    neither "same" nor "valid" in general. This layer reproduces the reference's windows.
    """

    def __init__(self, pool_size=3, strides=2, padding=1, ceil_mode=False, **kwargs):
        super().__init__(**kwargs)
        if padding * 2 >= pool_size + 1:
            raise ValueError(f"`padding` must be at most pool_size // 2; received padding={padding}, pool_size={pool_size}")
        if ceil_mode and pool_size < padding + strides:
            raise ValueError("`ceil_mode=True` needs pool_size >= padding + strides; received "
                             f"pool_size={pool_size}, strides={strides}, padding={padding}")
        self.pool_size = pool_size
        self.strides = strides
        self.padding = padding
        self.ceil_mode = ceil_mode

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        # Ceil mode: strides - 1 more -inf pixels at the bottom / right make 'valid' windows count
        # ceil((n + 2p - k) / s) + 1, PyTorch's; with pool_size >= padding + strides its last window
        # always starts inside the input or the left padding, so PyTorch keeps it too.
        p, extra = self.padding, self.strides - 1 if self.ceil_mode else 0
        pads = [[0, 0], [p, p + extra], [p, p + extra], [0, 0]]
        if not (p or extra):
            return ops.max_pool(inputs, self.pool_size, self.strides, padding="valid")
        if keras.backend.backend() == "tensorflow" and runs_on_eigen_cpu_kernels():
            import tensorflow as tf

            # Eigen's kernels (oneDNN off): one MaxPool op that skips the padded pixels (EXPLICIT padding); the
            # separate -inf pad was a pass as costly as the pool (112x112 maps: the pair 1.5-2.4x faster). oneDNN
            # runs no EXPLICIT pool: there the pad stays (ShuffleNetV2 batch 1 was 0.90x without it).
            return tf.nn.max_pool2d(inputs, self.pool_size, self.strides, pads)
        return ops.max_pool(ops.pad(inputs, pads, constant_values=float("-inf")), self.pool_size, self.strides,
                            padding="valid")

    def compute_output_shape(self, input_shape):
        def out(n):
            return pooled_size(n, self.pool_size, self.strides, self.padding, self.ceil_mode)

        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding, ceil_mode=self.ceil_mode)
        return config
