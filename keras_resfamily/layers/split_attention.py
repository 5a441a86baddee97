"""Split-Attention convolution of ResNeSt (Zhang et al., 2020)."""

import keras
from keras import ops

from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.grouped_conv2d import GroupedConv2D
from keras_resfamily.layers.utils import float32_spatial_mean, kaiming_fan_out, make_divisible

# timm's ResNet init for every conv / FC here: kaiming normal, fan_out, ReLU gain.
def _check_positive_int(value, what):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{what}` must be a positive integer; received {what}={value!r}.")


@keras.saving.register_keras_serializable(package="keras_resfamily")
class SplitAttention(keras.layers.Layer):
    """One grouped conv makes `radix` splits per cardinal group; a softmax over the splits mixes them.

    Equals timm's `SplitAttn` with BatchNorm (sublayers `conv`, `bn0`, `fc1`, `bn1`, `fc2`):

    1. `conv`: k x k convolution to `filters * radix` channels in `cardinality * radix` groups,
       then BN-ReLU. Channel block r (of `filters`) is split r.
    2. Sum of the splits, global average pool, `fc1` (1x1, `cardinality` groups, bias) -> BN ->
       ReLU -> `fc2` (1x1, `cardinality` groups, bias) to `filters * radix` logits.
    3. Softmax over the radix axis per channel (sigmoid when `radix == 1`), then the weighted sum
       of the splits. Pooling and softmax run in float32 so float16 cannot overflow.

    The attention width is `make_divisible(in_channels * radix * rd_ratio, rd_divisor,
    min_value=32)` unless `rd_channels` is given (then `rd_channels * radix`).

    Padding is PyTorch's symmetric `dilation * (kernel_size - 1) // 2` on each side.

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: of the split convolution.
        cardinality: groups of the convolution and of the attention FCs.
        radix: splits per group (1: sigmoid gate, as in timm).
        rd_ratio, rd_channels, rd_divisor: attention width (see above).
    """

    def __init__(self, filters, kernel_size=3, strides=1, dilation_rate=1, cardinality=1, radix=2,
                 rd_ratio=0.25, rd_channels=None, rd_divisor=8, **kwargs):
        super().__init__(**kwargs)
        for value, what in ((filters, "filters"), (kernel_size, "kernel_size"), (strides, "strides"),
                            (dilation_rate, "dilation_rate"), (cardinality, "cardinality"),
                            (radix, "radix"), (rd_divisor, "rd_divisor")):
            _check_positive_int(value, what)
        if rd_channels is not None:
            _check_positive_int(rd_channels, "rd_channels")
        elif not 0.0 < rd_ratio <= 4.0:
            raise ValueError(f"`rd_ratio` must be in (0, 4]; received rd_ratio={rd_ratio}.")
        if filters % cardinality:
            raise ValueError(
                f"`cardinality` must divide `filters`; received cardinality={cardinality}, filters={filters}."
            )
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.dilation_rate = dilation_rate
        self.cardinality = cardinality
        self.radix = radix
        self.rd_ratio = rd_ratio
        self.rd_channels = rd_channels
        self.rd_divisor = rd_divisor

    def attention_channels(self, in_channels):
        if self.rd_channels is not None:
            return self.rd_channels * self.radix
        return make_divisible(in_channels * self.radix * self.rd_ratio, self.rd_divisor, min_value=32)

    def build(self, input_shape):
        in_channels = input_shape[-1]
        groups = self.cardinality * self.radix
        if in_channels is None or in_channels % groups:
            raise ValueError(
                f"`cardinality * radix` must divide the input channels; received cardinality="
                f"{self.cardinality}, radix={self.radix} for input shape {tuple(input_shape)}."
            )
        attn = self.attention_channels(in_channels)
        if attn % self.cardinality:
            raise ValueError(
                f"`cardinality` must divide the attention width; received cardinality={self.cardinality} "
                f"with {attn} attention channels."
            )
        mid = self.filters * self.radix
        bn_args = dict(momentum=0.9, epsilon=1e-5, dtype=self.dtype_policy)
        self.conv = GroupedConv2D(mid, self.kernel_size, strides=self.strides, dilation_rate=self.dilation_rate,
                                  padding="same" if self.strides == 1 else "valid", groups=groups, use_bias=False,
                                  kernel_initializer=kaiming_fan_out(), name="conv", dtype=self.dtype_policy)
        self.bn0 = BatchNorm(name="bn0", **bn_args)
        self.fc1 = GroupedConv2D(attn, 1, groups=self.cardinality, kernel_initializer=kaiming_fan_out(), name="fc1",
                                 dtype=self.dtype_policy)
        self.bn1 = BatchNorm(name="bn1", **bn_args)
        self.fc2 = GroupedConv2D(mid, 1, groups=self.cardinality, kernel_initializer=kaiming_fan_out(), name="fc2",
                                 dtype=self.dtype_policy)
        padded = (None, None, None, in_channels)
        self.conv.build(padded)
        self.bn0.build(self.conv.compute_output_shape(padded))
        self.fc1.build((None, 1, 1, self.filters))
        self.bn1.build((None, 1, 1, attn))
        self.fc2.build((None, 1, 1, attn))

    def _pad(self, x):
        """PyTorch's symmetric padding, explicit where it differs from 'same' (strided convs): at stride 1 the conv
        pads itself ('same'), without a padded copy of the feature map."""
        pad = self.dilation_rate * (self.kernel_size - 1) // 2
        return ops.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))) if pad and self.strides > 1 else x

    def _radix_weights(self, logits):
        """(B, filters * radix) logits in timm's (group, radix, channel) order -> (B, radix, filters)."""
        logits = ops.cast(logits, "float32")
        if self.radix == 1:
            return ops.cast(ops.sigmoid(logits)[:, None, :], self.compute_dtype)
        per_group = self.filters // self.cardinality
        logits = ops.reshape(logits, (-1, self.cardinality, self.radix, per_group))
        weights = ops.softmax(ops.transpose(logits, (0, 2, 1, 3)), axis=1)
        return ops.cast(ops.reshape(weights, (-1, self.radix, self.filters)), self.compute_dtype)

    def call(self, inputs, training=None):
        x = ops.relu(self.bn0(self.conv(self._pad(inputs)), training=training))
        height, width = ops.shape(x)[1], ops.shape(x)[2]
        splits = ops.reshape(x, (-1, height, width, self.radix, self.filters))
        # Pooling (in float32: a float16 sum over a feature map overflows), then the sum of the pooled splits: the
        # mean is linear, and summing the small pooled vectors saves a pass over the feature map.
        gap = ops.sum(ops.reshape(float32_spatial_mean(x), (-1, self.radix, self.filters)), axis=1)
        gap = ops.cast(gap, self.compute_dtype)[:, None, None, :]
        hidden = ops.relu(self.bn1(self.fc1(gap), training=training))
        weights = self._radix_weights(ops.reshape(self.fc2(hidden), (-1, self.filters * self.radix)))
        return ops.sum(splits * weights[:, None, None, :, :], axis=3)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        pad = self.dilation_rate * (self.kernel_size - 1) // 2
        effective = self.dilation_rate * (self.kernel_size - 1) + 1

        def out(size):
            return None if size is None else (size + 2 * pad - effective) // self.strides + 1

        return (batch, out(height), out(width), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      dilation_rate=self.dilation_rate, cardinality=self.cardinality, radix=self.radix,
                      rd_ratio=self.rd_ratio, rd_channels=self.rd_channels, rd_divisor=self.rd_divisor)
        return config
