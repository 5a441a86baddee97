"""Mixed (grouped) convolution: input and output channels split into groups, one conv per group."""

import keras

from keras_resfamily.layers.mixed_depthwise_conv2d import (
    apply_per_split, build_per_split, check_kernel_sizes, check_strides, conv_output_size, split_channels,
)
from keras_resfamily.layers.utils import fresh_initializer, kaiming_fan_out


@keras.saving.register_keras_serializable(package="keras_resfamily")
class MixedConv2D(keras.layers.Layer):
    """A convolution made of independent group convolutions with (possibly) uneven groups.

    Equals timm's `MixedConv2d(depthwise=False)`, which MixNet uses for its grouped pointwise
    convolutions (`exp_kernel_size` / `pw_kernel_size` lists such as `[1, 1]`): the input channels
    and `filters` are each split with timm's rule (`split_channels`: equal parts, the first takes the
    remainder), group `i` is a `Conv2D(out_split[i], kernel_size[i])` sublayer named `"{i}"` on
    input split `i` (timm's `conv_pw.{i}`), and the outputs are concatenated in order.

    Args:
        filters: output channels (all groups together).
        kernel_size: list of kernel sizes, one per group.
        strides: of every group.
        padding: "same" (TensorFlow's SAME) or "symmetric" (PyTorch's; odd kernels).
        use_bias: bias in every group's convolution.
        kernel_initializer: initializer of every group's kernel.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="same", use_bias=False, kernel_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = check_kernel_sizes(kernel_size, padding)
        if not isinstance(filters, int) or isinstance(filters, bool) or filters < len(self.kernel_size):
            raise ValueError(f"`filters` must be an integer >= the number of groups ({len(self.kernel_size)}); "
                             f"received filters={filters!r}.")
        self.filters = filters
        self.strides = check_strides(strides)
        self.padding = padding
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or kaiming_fan_out())

    def build(self, input_shape):
        channels = input_shape[-1]
        groups = len(self.kernel_size)
        if channels is None or channels < groups:
            raise ValueError(f"MixedConv2D needs at least {groups} input channels (one per group); received "
                             f"input shape {tuple(input_shape)}.")
        self.splits = split_channels(channels, groups)
        out_splits = split_channels(self.filters, groups)
        self.pads, self.convs = build_per_split(
            self.kernel_size, self.splits, self.strides, self.padding,
            lambda i, k, padding: keras.layers.Conv2D(
                out_splits[i], k, strides=self.strides, padding=padding, use_bias=self.use_bias,
                kernel_initializer=fresh_initializer(self.kernel_initializer), name=str(i), dtype=self.dtype_policy))

    def call(self, inputs):
        return apply_per_split(inputs, self.splits, self.pads, self.convs)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        k = self.kernel_size[0]
        return (batch, conv_output_size(height, k, self.strides, self.padding),
                conv_output_size(width, k, self.strides, self.padding), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=list(self.kernel_size), strides=self.strides,
                      padding=self.padding, use_bias=self.use_bias,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer))
        return config
