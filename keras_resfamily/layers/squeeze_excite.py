"""Squeeze-and-Excitation channel attention (Hu et al., 2018)."""

import keras
from keras import ops

from keras_resfamily.layers.utils import float32_spatial_mean, make_divisible


@keras.saving.register_keras_serializable(package="keras_resfamily")
class SqueezeExcite(keras.layers.Layer):
    """Global average pool -> FC -> activation -> FC -> gate on the channels.

    With the defaults it matches timm's `SEModule` (ResNet family): ReLU, sigmoid gate, the
    reduced width `make_divisible(channels * rd_ratio, rd_divisor, round_limit=0)` unless
    `rd_channels` is given, FCs named `fc1`/`fc2`. The options give timm's EfficientNet /
    MobileNetV3 `SqueezeExcite` (`conv_reduce`/`conv_expand`, SiLU or ReLU, sigmoid or
    hard-sigmoid gate, an explicit `rd_channels`). The two FCs are Dense layers with bias on the
    pooled vector (equivalent to 1x1 convs); the pool is accumulated in float32.

    Args:
        rd_ratio: reduction ratio of the hidden width.
        rd_channels: explicit hidden width; overrides `rd_ratio`.
        rd_divisor: hidden width is rounded to a multiple of this.
        activation: activation after the reducing FC (a Keras activation name: "relu", "silu", ...).
        gate: gate activation ("sigmoid", or "hard_sigmoid" = relu6(x + 3) / 6 as in PyTorch).
        reduce_name, expand_name: names of the reducing / expanding FC (the reference's module names).
    """

    def __init__(self, rd_ratio=1.0 / 16, rd_channels=None, rd_divisor=8, activation="relu", gate="sigmoid",
                 reduce_name="fc1", expand_name="fc2", **kwargs):
        super().__init__(**kwargs)
        if rd_channels is None and not 0.0 < rd_ratio <= 1.0:
            raise ValueError(f"`rd_ratio` must be in (0, 1]; received rd_ratio={rd_ratio}")
        if reduce_name == expand_name:
            raise ValueError(f"`reduce_name` and `expand_name` must differ; received {reduce_name!r} twice")
        self.rd_ratio = rd_ratio
        self.rd_channels = rd_channels
        self.rd_divisor = rd_divisor
        self.activation = activation
        self.gate = gate
        self.reduce_name = reduce_name
        self.expand_name = expand_name
        keras.activations.get(activation)  # unknown names fail here, not at build
        self._gate_fn = keras.activations.get(gate)

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = self.rd_channels or make_divisible(channels * self.rd_ratio, self.rd_divisor, round_limit=0.0)
        self.fc1 = keras.layers.Dense(hidden, activation=self.activation, name=self.reduce_name,
                                      dtype=self.dtype_policy)
        self.fc2 = keras.layers.Dense(channels, name=self.expand_name, dtype=self.dtype_policy)
        self.fc1.build((None, channels))
        self.fc2.build((None, hidden))

    def call(self, inputs):
        pooled = ops.cast(float32_spatial_mean(inputs), self.compute_dtype)
        gate = self._gate_fn(self.fc2(self.fc1(pooled)))
        return inputs * gate[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rd_ratio=self.rd_ratio, rd_channels=self.rd_channels, rd_divisor=self.rd_divisor,
                      activation=self.activation, gate=self.gate, reduce_name=self.reduce_name,
                      expand_name=self.expand_name)
        return config
