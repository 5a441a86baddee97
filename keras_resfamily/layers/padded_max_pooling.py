"""Max pooling with explicit symmetric padding (PyTorch `nn.MaxPool2d(padding=p)` semantics)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_resfamily")
class PaddedMaxPooling2D(keras.layers.Layer):
    """Pads `padding` pixels of -inf on every side, then max-pools with 'valid' windows.

    Keras' "same" padding puts the extra pixel only at the bottom/right, which shifts the stride-2
    windows by one pixel relative to the reference models; this layer reproduces their windows.
    """

    def __init__(self, pool_size=3, strides=2, padding=1, **kwargs):
        super().__init__(**kwargs)
        if padding * 2 >= pool_size + 1:
            raise ValueError(f"`padding` must be at most pool_size // 2; received padding={padding}, pool_size={pool_size}")
        self.pool_size = pool_size
        self.strides = strides
        self.padding = padding

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        p = self.padding
        x = ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], constant_values=float("-inf")) if p else inputs
        return ops.max_pool(x, self.pool_size, self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        def out(n):
            return None if n is None else (n + 2 * self.padding - self.pool_size) // self.strides + 1

        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding)
        return config
