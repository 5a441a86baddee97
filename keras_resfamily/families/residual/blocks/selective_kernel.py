"""Selective Kernel residual blocks (SKNet, Li et al., 2019; timm `skresnet`)."""

from keras_resfamily.families.residual.blocks.block_args import block_options
from keras_resfamily.families.residual.blocks.bottleneck import EXPANSION, bottleneck_width
from keras_resfamily.families.residual.blocks.common import (
    BlockConfig, attention, batch_norm, check_groups, conv2d, relu, residual_sum, shortcut_branch,
)
from keras_resfamily.layers import SelectiveKernel

# Keyword arguments of the SelectiveKernel layer a spec may set through `block_args`.
SK_ARGS = ("kernel_size", "split_input", "rd_ratio", "rd_channels", "rd_divisor", "min_rd_channels")
SK_DEFAULTS = dict(split_input=True)


def _conv_norm(x, filters, kernel_size, name, act=True):
    """timm ConvNormAct: sublayers `{name}-conv` and `{name}-bn` (the BN owns the activation).

    The BN closing a residual branch (act=False) starts at zero, as in every other block here.
    timm's SK models start it at one (zero_init_last=False), which at initialisation makes the stem
    gradient 300-900x ResNet-50's (timm, loss scale 1024: 2.4e5 for skresnet50, 7.0e5 for
    skresnext50_32x4d, 778 for resnet50), beyond float16's range under mixed precision.
    """
    x = conv2d(x, filters, kernel_size, name=f"{name}-conv")
    x = batch_norm(x, f"{name}-bn", zero_init=not act)
    return relu(x, f"{name}-bn-act") if act else x


def _finish(y, shortcut, config, name, drop_path_rate):
    y = attention(y, config, f"{name}-se")
    y = residual_sum(y, shortcut, name, drop_path_rate)
    return relu(y, f"{name}-act")


def sk_basic_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    """timm `SelectiveKernelBasic`: SK conv (stride) -> 3x3 conv-BN."""
    if config.cardinality != 1 or config.base_width != 64:
        raise ValueError(
            "The selective-kernel basic block supports only cardinality=1 and base_width=64; received "
            f"cardinality={config.cardinality}, base_width={config.base_width}."
        )
    sk_args = block_options(config.block_args, SK_ARGS, SK_DEFAULTS)
    shortcut = shortcut_branch(x, planes, stride, config, name)
    y = SelectiveKernel(planes, strides=stride, name=f"{name}-conv1", **sk_args)(x)
    y = _conv_norm(y, planes, 3, f"{name}-conv2", act=False)
    return _finish(y, shortcut, config, name, drop_path_rate)


def sk_bottleneck_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    """timm `SelectiveKernelBottleneck`: 1x1 -> SK conv (stride, cardinality groups) -> 1x1."""
    sk_args = block_options(config.block_args, SK_ARGS, SK_DEFAULTS)
    width = bottleneck_width(planes, config.cardinality, config.base_width)
    check_groups(width, config.cardinality)
    out_channels = planes * EXPANSION
    shortcut = shortcut_branch(x, out_channels, stride, config, name)
    y = _conv_norm(x, width, 1, f"{name}-conv1")
    y = SelectiveKernel(width, strides=stride, groups=config.cardinality, name=f"{name}-conv2", **sk_args)(y)
    y = _conv_norm(y, out_channels, 1, f"{name}-conv3", act=False)
    return _finish(y, shortcut, config, name, drop_path_rate)
