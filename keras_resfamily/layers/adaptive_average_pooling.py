"""Adaptive average pooling with PyTorch's bins (`nn.AdaptiveAvgPool2d`), at any input size, known or not."""

import keras
from keras import ops


def _bin_weights(length, bins, dtype):
    """(bins, length) matrix whose row i averages PyTorch's bin i: [floor(i n / m), ceil((i + 1) n / m))."""
    index = ops.arange(bins, dtype="int32")
    start = (index * length) // bins
    end = -((-(index + 1) * length) // bins)
    position = ops.arange(length, dtype="int32")
    inside = ops.logical_and(position[None, :] >= start[:, None], position[None, :] < end[:, None])
    return ops.cast(inside, dtype) / ops.cast(end - start, dtype)[:, None]


@keras.saving.register_keras_serializable(package="keras_resfamily")
class AdaptiveAveragePooling2D(keras.layers.Layer):
    """Averages the input over `output_size` bins per spatial axis, as PyTorch's adaptive pooling.

    Bin i of an axis of length n pooled to m bins covers [floor(i n / m), ceil((i + 1) n / m)): where
    m does not divide n the bins differ in size and overlap (14 -> 4: rows 0-3, 3-6, 7-10, 10-13, as
    in GoogLeNet's auxiliary heads); a map smaller than the output repeats its pixels.

    Keras' own `keras.layers.AdaptiveAveragePooling2D` needs the spatial size when the graph is
    built on TensorFlow, while these models take images of any size: here each axis is pooled at
    call time by its (bins, length) averaging matrix, so unknown sizes work.
    """

    def __init__(self, output_size, **kwargs):
        super().__init__(**kwargs)
        size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
        if len(size) != 2 or not all(isinstance(s, int) and s >= 1 for s in size):
            raise ValueError(f"`output_size` must be a positive integer or two; received output_size={output_size!r}")
        self.output_size = size

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        shape = ops.shape(inputs)
        rows = _bin_weights(shape[1], self.output_size[0], self.compute_dtype)
        columns = _bin_weights(shape[2], self.output_size[1], self.compute_dtype)
        return ops.einsum("ih,bhwc,jw->bijc", rows, inputs, columns)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.output_size + (input_shape[3],)

    def get_config(self):
        config = super().get_config()
        config.update(output_size=self.output_size)
        return config
