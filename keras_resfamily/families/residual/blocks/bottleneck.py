"""Bottleneck residual block (ResNet-50+ v1.5, ResNeXt, Wide ResNet): 1x1 -> 3x3 (grouped) -> 1x1."""

import math

from keras_resfamily.families.residual.blocks.common import (
    BlockConfig, attention, batch_norm, check_groups, conv2d, relu, residual_sum, shortcut_branch,
)

EXPANSION = 4


def bottleneck_width(planes, cardinality, base_width):
    """Channels of the grouped 3x3 convolution: `planes * base_width / 64` per group."""
    return int(math.floor(planes * (base_width / 64)) * cardinality)


def bottleneck_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    width = bottleneck_width(planes, config.cardinality, config.base_width)
    check_groups(width, config.cardinality)
    out_channels = planes * EXPANSION
    shortcut = shortcut_branch(x, out_channels, stride, config, name)
    y = conv2d(x, width, 1, name=f"{name}-conv1")
    y = relu(batch_norm(y, f"{name}-bn1"), f"{name}-act1")
    # v1.5: the stride sits on the 3x3 convolution, not the first 1x1.
    y = conv2d(y, width, 3, strides=stride, groups=config.cardinality, name=f"{name}-conv2")
    y = relu(batch_norm(y, f"{name}-bn2"), f"{name}-act2")
    y = conv2d(y, out_channels, 1, name=f"{name}-conv3")
    y = batch_norm(y, f"{name}-bn3", zero_init=True)
    y = attention(y, config, f"{name}-se")
    y = residual_sum(y, shortcut, name, drop_path_rate)
    return relu(y, f"{name}-act3")
