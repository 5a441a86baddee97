"""Convolution / normalisation helpers with the reference models' exact padding and init."""

import dataclasses
from typing import Optional

import keras

from keras_resfamily.families.residual.attention import make_attention
from keras_resfamily.layers import GroupedConv2D, StochasticDepth
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.utils import kaiming_fan_out

# PyTorch BatchNorm defaults: momentum 0.1 of the new value == Keras momentum 0.9; eps 1e-5.
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


@dataclasses.dataclass(frozen=True)
class BlockConfig:
    """What a block function needs from the spec besides its position in the network."""

    cardinality: int = 1
    base_width: int = 64
    avg_down: bool = False
    attention: Optional[str] = None
    attention_args: tuple = ()
    block_args: tuple = ()
    stage_index: int = 0  # where the block sits (set by the builder): per-stage / per-block rules
    block_index: int = 0


def reference_padding(kernel_size, stride=1, dilation=1):
    """Symmetric padding used by the reference (PyTorch) convolutions."""
    return ((stride - 1) + dilation * (kernel_size - 1)) // 2


def conv2d(x, filters, kernel_size, name, strides=1, groups=1, dilation_rate=1, use_bias=False,
           kernel_initializer=None):
    """Conv2D with PyTorch's symmetric padding (Keras 'same' pads bottom/right only at stride 2)."""
    pad = reference_padding(kernel_size, strides, dilation_rate)
    symmetric_same = strides == 1 and kernel_size % 2 == 1
    if pad and not symmetric_same:
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}-pad")(x)
    # Same variables and outputs as Conv2D; grouped convs run per group on CPU (~100x faster backward).
    return (GroupedConv2D if groups > 1 else keras.layers.Conv2D)(
        filters,
        kernel_size,
        strides=strides,
        padding="same" if symmetric_same else "valid",
        groups=groups,
        dilation_rate=dilation_rate,
        use_bias=use_bias,
        kernel_initializer=kernel_initializer or kaiming_fan_out(),
        name=name,
    )(x)


def batch_norm(x, name, zero_init=False):
    return BatchNorm(
        momentum=BN_MOMENTUM,
        epsilon=BN_EPSILON,
        gamma_initializer="zeros" if zero_init else "ones",
        name=name,
    )(x)


def relu(x, name):
    return keras.layers.ReLU(name=name)(x)


def attention(x, config: BlockConfig, name):
    args = dict(config.attention_args)
    stages = args.pop("stages", None)  # attention in these 0-based stages only (GCNet: c3-c5)
    if stages is not None and config.stage_index not in stages:
        return x
    layer = make_attention(config.attention, x.shape[-1], name, tuple(args.items()))
    return x if layer is None else layer(x)


def drop_path(x, rate, name):
    return StochasticDepth(rate, name=name)(x) if rate > 0 else x


def check_groups(channels, groups, what="cardinality"):
    if groups < 1 or channels % groups:
        raise ValueError(
            f"`{what}` must be a positive divisor of the grouped convolution's channels; "
            f"received {what}={groups} for {channels} channels."
        )


def shortcut_branch(x, out_channels, stride, config: BlockConfig, name):
    """Identity, or the `{name}-downsample` projection where the block changes resolution or width."""
    if stride != 1 or x.shape[-1] != out_channels:
        return projection_shortcut(x, out_channels, stride, config.avg_down, f"{name}-downsample")
    return x


def residual_sum(y, shortcut, name, drop_path_rate):
    """Stochastic depth on the residual branch, then `{name}-add` with the shortcut."""
    y = drop_path(y, drop_path_rate, f"{name}-drop_path")
    # Shortcut first: Keras walks a functional graph recursively through each node's first input, so
    # this keeps the walk one add per block deep instead of every layer deep (ResNetRS420: 1549 frames
    # > Python's limit of 1000). Two-term float addition is commutative: outputs are unchanged.
    return keras.layers.Add(name=f"{name}-add")([shortcut, y])


def projection_shortcut(x, out_channels, stride, avg_down, name):
    """Strided 1x1 conv + BN, or (ResNet-D) 2x2 average pool + 1x1 conv + BN.

    Layer names follow timm's `downsample` Sequential: `.0` conv `.1` bn, or `.0` pool `.1` conv `.2` bn.
    """
    if avg_down:
        if stride > 1:
            # ceil_mode + count_include_pad=False in the reference == 'same' padding here.
            x = keras.layers.AveragePooling2D(2, stride, padding="same", name=f"{name}-0")(x)
        x = conv2d(x, out_channels, 1, name=f"{name}-1")
        return batch_norm(x, name=f"{name}-2")
    x = conv2d(x, out_channels, 1, strides=stride, name=f"{name}-0")
    return batch_norm(x, name=f"{name}-1")
