"""Gather-Excite (Hu et al., Gather-Excite: Exploiting Feature Context in CNNs, 2018)."""

import math

import keras
from keras import ops

from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.utils import float32_spatial_mean, make_divisible

BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def nearest_resize(x, height, width):
    """PyTorch `F.interpolate(mode='nearest')`: source index floor(i * in / out), NHWC."""
    for axis, size in ((1, height), (2, width)):
        source = ops.shape(x)[axis]
        scale = ops.cast(source, "float32") / ops.cast(size, "float32")
        index = ops.cast(ops.floor(ops.cast(ops.arange(size), "float32") * scale), "int32")
        x = ops.take(x, ops.minimum(index, source - 1), axis=axis)
    return x


@keras.saving.register_keras_serializable(package="keras_resfamily")
class GatherExcite(keras.layers.Layer):
    """Gather context over a spatial extent, excite (gate) every position with its sigmoid.

    The paper's variants: GE-theta-minus (`extra_params=False, use_mlp=False`: average pooling),
    GE-theta (`extra_params=True`: strided depthwise 3x3 conv-BN gathers, ReLU in between, or one
    depthwise conv covering the whole map for the global extent) and GE-theta-plus (`extra_params=True,
    use_mlp=True`: plus an SE-style 1x1-conv MLP). The gathered map is upsampled back with
    nearest-neighbour interpolation. Sublayer names follow timm's `GatherExcite` (`gather.conv1`,
    `gather.norm1`, ..., `mlp.fc1`, `mlp.fc2`).

    Args:
        extent: 0 for the global extent, else a power of two: the gather's stride.
        extra_params: parametric (depthwise conv) gather instead of average pooling. With the
            global extent the conv kernel covers the whole map, so the input size must be static.
        use_mlp: SE-style 1x1-conv MLP (ReLU, reduction `rd_ratio`) between gather and gate.
        rd_ratio: hidden width of the MLP relative to the channels.
        rd_channels: explicit hidden width; overrides `rd_ratio`.
        rd_divisor: hidden width is rounded to a multiple of this.
    """

    def __init__(self, extent=0, extra_params=False, use_mlp=True, rd_ratio=1.0 / 16, rd_channels=None,
                 rd_divisor=1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(extent, int) or extent < 0 or (extent and extent & (extent - 1)) or extent == 1:
            raise ValueError(f"`extent` must be 0 (global) or a power of two >= 2; received extent={extent!r}")
        if rd_channels is None and not 0.0 < rd_ratio <= 1.0:
            raise ValueError(f"`rd_ratio` must be in (0, 1]; received rd_ratio={rd_ratio}")
        self.extent = extent
        self.extra_params = extra_params
        self.use_mlp = use_mlp
        self.rd_ratio = rd_ratio
        self.rd_channels = rd_channels
        self.rd_divisor = rd_divisor

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"GatherExcite needs a known channel count; received input_shape={tuple(input_shape)}")
        self.gather = []  # (depthwise conv, batch norm) pairs
        if self.extra_params:
            if self.extent == 0:
                height, width = input_shape[1:3]
                if height is None or width is None:
                    raise ValueError(
                        "GatherExcite(extent=0, extra_params=True) gathers with a depthwise conv as large "
                        f"as the feature map, so its size must be static; received input_shape={tuple(input_shape)}"
                    )
                kernels, strides, shape = [(height, width)], 1, tuple(input_shape)
            else:
                kernels, strides, shape = [3] * int(math.log2(self.extent)), 2, tuple(input_shape)
            for i, kernel in enumerate(kernels):
                conv = keras.layers.DepthwiseConv2D(kernel, strides, use_bias=False, name=f"gather-conv{i + 1}",
                                                    dtype=self.dtype_policy)
                norm = BatchNorm(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"gather-norm{i + 1}",
                                 dtype=self.dtype_policy)
                if strides == 2:
                    shape = (shape[0],) + tuple(None if d is None else d + 2 for d in shape[1:3]) + (channels,)
                conv.build(shape)
                shape = conv.compute_output_shape(shape)
                norm.build(shape)
                self.gather.append((conv, norm))
        self.mlp = None
        if self.use_mlp:
            hidden = self.rd_channels or make_divisible(channels * self.rd_ratio, self.rd_divisor, round_limit=0.0)
            fc1 = keras.layers.Conv2D(hidden, 1, activation="relu", name="mlp-fc1", dtype=self.dtype_policy)
            fc2 = keras.layers.Conv2D(channels, 1, name="mlp-fc2", dtype=self.dtype_policy)
            fc1.build((None, None, None, channels))
            fc2.build((None, None, None, hidden))
            self.mlp = (fc1, fc2)

    def _parametric_gather(self, x, training):
        for i, (conv, norm) in enumerate(self.gather):
            if i:
                x = ops.relu(x)
            if self.extent:  # PyTorch-style symmetric padding of the stride-2 3x3 convs
                x = ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
            x = norm(conv(x), training=training)
        return x

    def _average_gather(self, x):
        if self.extent == 0:
            return float32_spatial_mean(x)[:, None, None, :]
        # avg_pool2d(kernel 2e-1, stride e, padding e-1, count_include_pad=False), in float32
        kernel, pad = 2 * self.extent - 1, self.extent - 1
        paddings = [[0, 0], [pad, pad], [pad, pad], [0, 0]]
        x = ops.pad(ops.cast(x, "float32"), paddings)
        ones = ops.pad(ops.ones_like(x[..., :1])[:, pad:-pad or None, pad:-pad or None], paddings)
        summed = ops.average_pool(x, kernel, self.extent, padding="valid")
        counted = ops.average_pool(ones, kernel, self.extent, padding="valid")
        return summed / counted

    def call(self, inputs, training=None):
        if self.extra_params:
            gathered = self._parametric_gather(inputs, training)
        else:
            gathered = ops.cast(self._average_gather(inputs), self.compute_dtype)
        if self.mlp is not None:
            gathered = self.mlp[1](self.mlp[0](gathered))
        gate = ops.sigmoid(gathered)
        if self.extent:
            # A global gate broadcasts; a strided one is upsampled back. The sigmoid on the small map first gives the
            # same values (nearest-neighbour resizing only picks them) with one full-size pass fewer.
            shape = ops.shape(inputs)
            gate = nearest_resize(gate, shape[1], shape[2])
        return inputs * gate

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(extent=self.extent, extra_params=self.extra_params, use_mlp=self.use_mlp,
                      rd_ratio=self.rd_ratio, rd_channels=self.rd_channels, rd_divisor=self.rd_divisor)
        return config
