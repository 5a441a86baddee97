"""Mixed depthwise convolution (MixConv, Tan & Le, 2019): one kernel size per group of channels."""

import keras
from keras import ops

from keras_resfamily.layers.utils import fresh_initializer, kaiming_fan_out

PADDINGS = ("same", "symmetric")


def split_channels(channels, groups):
    """timm's `_split_channels`: `groups` equal parts, the FIRST part takes the remainder."""
    base = channels // groups
    return [channels - base * (groups - 1)] + [base] * (groups - 1)


def check_kernel_sizes(kernel_size, padding):
    """Validated list of kernel sizes (ints >= 1; odd where PyTorch's symmetric padding must keep the
    outputs of every group the same size)."""
    kernels = list(kernel_size) if isinstance(kernel_size, (list, tuple)) else [kernel_size]
    if not kernels or any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in kernels):
        raise ValueError(f"`kernel_size` must be a positive integer or a list of them; received "
                         f"kernel_size={kernel_size!r}.")
    if padding not in PADDINGS:
        raise ValueError(f"`padding` must be one of {PADDINGS}; received padding={padding!r}.")
    if padding == "symmetric" and len(kernels) > 1 and any(k % 2 == 0 for k in kernels):
        raise ValueError("With padding='symmetric' the kernel sizes of a mixed convolution must be odd (the "
                         f"groups' outputs must have one size); received kernel_size={kernel_size!r}.")
    return kernels


def check_strides(strides):
    if not isinstance(strides, int) or isinstance(strides, bool) or strides < 1:
        raise ValueError(f"`strides` must be a positive integer; received strides={strides!r}.")
    return strides


def symmetric_pad(kernel_size, strides):
    """PyTorch / timm symmetric padding per side."""
    return ((strides - 1) + (kernel_size - 1)) // 2


def conv_padding(kernel_size, strides, padding):
    """(explicit symmetric pad, Keras padding) computing `padding` exactly: TF 'same' is Keras 'same' on
    TensorFlow; symmetric padding is Keras 'same' only at stride 1 with an odd kernel."""
    if padding == "same" or (strides == 1 and kernel_size % 2 == 1):
        return 0, "same"
    return symmetric_pad(kernel_size, strides), "valid"


def padded_input(x, kernel_size, strides, name, padding="symmetric"):
    """(x, Keras padding) for a functional conv or pool named `name` that pads as `padding` says
    (PyTorch's symmetric padding by default): an explicit ZeroPadding2D named "{name}-pad" where
    Keras' own padding differs (`conv_padding`)."""
    pad, keras_padding = conv_padding(kernel_size, strides, padding)
    if pad:
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}-pad")(x)
    return x, keras_padding


def padded(x, pad):
    return x if not pad else ops.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def build_per_split(kernel_sizes, splits, strides, padding, make_conv):
    """(pads, convs): one conv per channel group, `make_conv(index, kernel, keras_padding)`, built for its
    group's channels, and the explicit pad it needs first."""
    pads, convs = [], []
    for i, (k, split) in enumerate(zip(kernel_sizes, splits)):
        pad, keras_padding = conv_padding(k, strides, padding)
        conv = make_conv(i, k, keras_padding)
        conv.build((None, None, None, split))
        pads.append(pad)
        convs.append(conv)
    return pads, convs


def apply_per_split(inputs, splits, pads, convs):
    """Channels split as `splits`, each group padded and convolved by its own conv, concatenated."""
    if len(convs) == 1:
        return convs[0](padded(inputs, pads[0]))
    parts = ops.split(inputs, [sum(splits[:i]) for i in range(1, len(splits))], axis=-1)
    return ops.concatenate([conv(padded(x, pad)) for x, pad, conv in zip(parts, pads, convs)], axis=-1)


def conv_output_size(size, kernel_size, strides, padding):
    if size is None:
        return None
    if padding == "same":
        return -(-size // strides)
    return (size + 2 * symmetric_pad(kernel_size, strides) - kernel_size) // strides + 1


@keras.saving.register_keras_serializable(package="keras_resfamily")
class MixedDepthwiseConv2D(keras.layers.Layer):
    """Depthwise convolution whose channels are split into groups, each with its own kernel size.

    Equals timm's `MixedConv2d(depthwise=True)` (MixNet): the channels are split with timm's rule
    (`split_channels`: equal parts, the first takes the remainder), group `i` runs a
    `DepthwiseConv2D(kernel_size[i])` sublayer named `"{i}"` (timm's `conv_dw.{i}`), and the outputs
    are concatenated in order.

    Args:
        kernel_size: list of kernel sizes, one per channel group.
        strides: of every group.
        padding: "same" (TensorFlow's SAME: timm's `tf_` models) or "symmetric" (PyTorch's
            `((strides - 1) + (k - 1)) // 2` on every side; odd kernels).
        use_bias: bias in every group's convolution.
        depthwise_initializer: initializer of every group's kernel.
    """

    def __init__(self, kernel_size, strides=1, padding="same", use_bias=False, depthwise_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = check_kernel_sizes(kernel_size, padding)
        self.strides = check_strides(strides)
        self.padding = padding
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = keras.initializers.get(depthwise_initializer or kaiming_fan_out())

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels < len(self.kernel_size):
            raise ValueError(f"MixedDepthwiseConv2D needs at least {len(self.kernel_size)} input channels (one per "
                             f"kernel size); received input shape {tuple(input_shape)}.")
        self.splits = split_channels(channels, len(self.kernel_size))
        self.pads, self.convs = build_per_split(
            self.kernel_size, self.splits, self.strides, self.padding,
            lambda i, k, padding: keras.layers.DepthwiseConv2D(
                k, strides=self.strides, padding=padding, use_bias=self.use_bias,
                depthwise_initializer=fresh_initializer(self.depthwise_initializer), name=str(i), dtype=self.dtype_policy))

    def call(self, inputs):
        return apply_per_split(inputs, self.splits, self.pads, self.convs)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        k = self.kernel_size[0]
        return (batch, conv_output_size(height, k, self.strides, self.padding),
                conv_output_size(width, k, self.strides, self.padding), channels)

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=list(self.kernel_size), strides=self.strides, padding=self.padding,
                      use_bias=self.use_bias,
                      depthwise_initializer=keras.initializers.serialize(self.depthwise_initializer))
        return config
