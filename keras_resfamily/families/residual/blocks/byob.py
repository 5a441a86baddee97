"""timm "bring-your-own-blocks" (byobnet) bottleneck block and tiered stem, e.g. GC-ResNet-50-T.

Each conv-BN(-act) is a timm `ConvNormAct`: layers `<name>-conv`, `<name>-bn`. The activation
(`relu` or `silu`) and the group size of the 3x3 conv come from the spec's `block_args`.
"""

import keras

from keras_resfamily.families.residual.blocks.common import BlockConfig, attention, batch_norm, conv2d, residual_sum
from keras_resfamily.layers import PaddedMaxPooling2D
from keras_resfamily.layers.utils import make_divisible

EXPANSION = 4
ACTIVATIONS = ("relu", "silu")


def _activation(args):
    act = args.get("act", "relu")
    if act not in ACTIVATIONS:
        raise ValueError(f"block_args 'act' must be one of {ACTIVATIONS}; received act={act!r}")
    return act


def conv_norm_act(x, filters, kernel_size, name, act=None, strides=1, groups=1, zero_init=False):
    x = conv2d(x, filters, kernel_size, name=f"{name}-conv", strides=strides, groups=groups)
    x = batch_norm(x, f"{name}-bn", zero_init=zero_init)
    return keras.layers.Activation(act, name=f"{name}-act")(x) if act else x


def byob_bottleneck_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    """1x1 -> 3x3 (groups of `group_size` channels) -> attention -> 1x1, timm `BottleneckBlock`.

    Unlike the torchvision-style bottleneck, the attention gates the 3x3 output (`<name>-attn`)
    and the shortcut is a 1x1 conv-BN (`<name>-shortcut`) whenever the shape changes.
    """
    args = dict(config.block_args)
    act = _activation(args)
    out_channels = planes * EXPANSION
    mid = make_divisible(out_channels * args.get("bottle_ratio", 1.0 / EXPANSION))
    group_size = args.get("group_size")
    groups = mid // group_size if group_size else 1
    if group_size and (group_size < 1 or mid % group_size):
        raise ValueError(f"`group_size` must divide the 3x3 conv's {mid} channels; received group_size={group_size}.")
    shortcut = x
    if stride != 1 or x.shape[-1] != out_channels:
        shortcut = conv_norm_act(x, out_channels, 1, f"{name}-shortcut", strides=stride)
    y = conv_norm_act(x, mid, 1, f"{name}-conv1_1x1", act)
    y = conv_norm_act(y, mid, 3, f"{name}-conv2_kxk", act, strides=stride, groups=groups)
    y = attention(y, config, f"{name}-attn")
    y = conv_norm_act(y, out_channels, 1, f"{name}-conv3_1x1", zero_init=True)
    y = residual_sum(y, shortcut, name, drop_path_rate)
    return keras.layers.Activation(act, name=f"{name}-act")(y)


def byob_tiered_stem(x, spec):
    """timm "tiered" stem: 3x3 convs to 3/8, 1/2 and 1 x `stem_width`, stride 4 in total.

    With `stem_pool="max"` the first conv and a 3x3 max pool stride; with "none" the first and
    last convs do.
    """
    if spec.stem_pool not in ("max", "none"):
        raise ValueError(f"The byob tiered stem takes stem_pool 'max' or 'none'; received {spec.stem_pool!r}")
    act = _activation(dict(spec.block_args))
    width = spec.stem_width
    x = conv_norm_act(x, 3 * width // 8, 3, "stem-conv1", act, strides=2)
    x = conv_norm_act(x, width // 2, 3, "stem-conv2", act)
    x = conv_norm_act(x, width, 3, "stem-conv3", act, strides=1 if spec.stem_pool == "max" else 2)
    return PaddedMaxPooling2D(3, 2, 1, name="stem-pool")(x) if spec.stem_pool == "max" else x
