"""The family's blocks (timm `_efficientnet_blocks`) and their conv / norm / activation helpers.

    ds   DepthwiseSeparable: dw conv, BN-act, [SE], pw conv, BN; identity skip where it fits
    dsa  the same with an activation after the pw BN and never a skip (MobileNetV1)
    ir   InvertedResidual: pw expansion, BN-act, dw conv, BN-act, [SE], pw projection, BN; skip
    cn   ConvBnAct: conv, BN-act (MobileNetV3's last 1x1 stage)

Several kernel sizes in one conv are MixNet's mixed convolutions (`MixedDepthwiseConv2D`,
`MixedConv2D`). Padding: TF "same" (timm's `tf_` models) or PyTorch's symmetric padding.
"""

import dataclasses

import keras

from keras_resfamily.layers import MixedConv2D, MixedDepthwiseConv2D, SqueezeExcite, StochasticDepth
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.mixed_depthwise_conv2d import padded_input
from keras_resfamily.layers.utils import kaiming_fan_out

BN_MOMENTUM = 0.9  # PyTorch momentum 0.1; irrelevant in inference


@dataclasses.dataclass(frozen=True)
class Context:
    """What the blocks need from the row besides the block itself."""

    padding: str  # layer padding: "same" (TF SAME) or "symmetric" (PyTorch)
    bn_epsilon: float
    se_gate: str  # "sigmoid" or "hard_sigmoid"
    se_names: tuple  # the squeeze-excite's two 1x1 convs
    dw_multiplier: int = 1  # keras' MobileNet depth_multiplier


# The family's activation names -> Keras'. hard_silu is x * relu6(x + 3) / 6, as torch's Hardswish.
KERAS_ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "hard_swish": "hard_silu", "swish": "silu"}


def activation(x, act, name):
    return keras.layers.Activation(KERAS_ACTIVATIONS[act], name=name)(x)


def conv(x, filters, kernel, name, ctx, strides=1, use_bias=False):
    """A convolution: several kernel sizes make a `MixedConv2D` (MixNet's grouped 1x1 convs)."""
    if len(kernel) > 1:
        return MixedConv2D(filters, list(kernel), strides=strides, padding=ctx.padding, use_bias=use_bias,
                           name=name)(x)
    x, padding = padded_input(x, kernel[0], strides, name, ctx.padding)
    return keras.layers.Conv2D(filters, kernel[0], strides=strides, padding=padding, use_bias=use_bias,
                               kernel_initializer=kaiming_fan_out(), name=name)(x)


def depthwise(x, kernel, name, ctx, strides=1):
    """A depthwise convolution: several kernel sizes make a `MixedDepthwiseConv2D`."""
    if len(kernel) > 1:
        return MixedDepthwiseConv2D(list(kernel), strides=strides, padding=ctx.padding, name=name)(x)
    x, padding = padded_input(x, kernel[0], strides, name, ctx.padding)
    return keras.layers.DepthwiseConv2D(kernel[0], strides=strides, padding=padding, use_bias=False,
                                        depth_multiplier=ctx.dw_multiplier, depthwise_initializer=kaiming_fan_out(),
                                        name=name)(x)


def norm(x, name, ctx, act=None):
    """BN, then `act` (timm's BatchNormAct2d: the activation is `{name}-act`)."""
    x = BatchNorm(momentum=BN_MOMENTUM, epsilon=ctx.bn_epsilon, name=name)(x)
    return activation(x, act, f"{name}-act") if act else x


def squeeze_excite(x, block, ctx, names):
    if not block.se_channels:
        return x
    return SqueezeExcite(rd_channels=block.se_channels, activation=KERAS_ACTIVATIONS[block.se_act],
                         gate=ctx.se_gate, reduce_name=ctx.se_names[0], expand_name=ctx.se_names[1], name=names("se"))(x)


def residual(y, shortcut, block, names, drop_path_rate):
    """The identity skip where the block has one: drop path on the branch, then the add."""
    if not block.skip:
        return y
    if drop_path_rate > 0:
        y = StochasticDepth(drop_path_rate, name=names("drop_path"))(y)
    # Shortcut first: Keras' recursive graph walk then follows the shortcuts (see graph_walk.py).
    return keras.layers.Add(name=names("add"))([shortcut, y])


def depthwise_separable(x, block, ctx, names, drop_path_rate):
    shortcut = x
    x = depthwise(x, block.kernel, names("conv_dw"), ctx, block.stride)
    x = norm(x, names("bn1"), ctx, block.act)
    x = squeeze_excite(x, block, ctx, names)
    x = conv(x, block.out_channels, block.pw_kernel, names("conv_pw"), ctx)
    x = norm(x, names("bn2"), ctx, block.act if block.kind == "dsa" else None)
    return residual(x, shortcut, block, names, drop_path_rate)


def inverted_residual(x, block, ctx, names, drop_path_rate):
    shortcut = x
    x = conv(x, block.mid_channels, block.exp_kernel, names("conv_pw"), ctx)
    x = norm(x, names("bn1"), ctx, block.act)
    x = depthwise(x, block.kernel, names("conv_dw"), ctx, block.stride)
    x = norm(x, names("bn2"), ctx, block.act)
    x = squeeze_excite(x, block, ctx, names)
    x = conv(x, block.out_channels, block.pw_kernel, names("conv_pwl"), ctx)
    x = norm(x, names("bn3"), ctx)
    return residual(x, shortcut, block, names, drop_path_rate)


def conv_bn_act(x, block, ctx, names, drop_path_rate):
    shortcut = x
    x = conv(x, block.out_channels, block.kernel, names("conv"), ctx, block.stride)
    x = norm(x, names("bn1"), ctx, block.act)
    return residual(x, shortcut, block, names, drop_path_rate)


BLOCKS = {
    "ds": depthwise_separable,
    "dsa": depthwise_separable,
    "ir": inverted_residual,
    "cn": conv_bn_act,
}
