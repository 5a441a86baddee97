"""Bottleneck residual block (ResNet-50+ v1.5, ResNeXt, Wide ResNet): 1x1 -> 3x3 (grouped) -> 1x1."""

import math

import keras

from keras_resfamily.blocks.common import (
    BlockConfig, attention, batch_norm, check_groups, conv2d, drop_path, projection_shortcut, relu,
)

EXPANSION = 4


def bottleneck_width(planes, cardinality, base_width):
    """Channels of the grouped 3x3 convolution: `planes * base_width / 64` per group."""
    return int(math.floor(planes * (base_width / 64)) * cardinality)


def bottleneck_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    width = bottleneck_width(planes, config.cardinality, config.base_width)
    check_groups(width, config.cardinality)
    out_channels = planes * EXPANSION
    shortcut = x
    if stride != 1 or x.shape[-1] != out_channels:
        shortcut = projection_shortcut(x, out_channels, stride, config.avg_down, f"{name}-downsample")
    y = conv2d(x, width, 1, name=f"{name}-conv1")
    y = relu(batch_norm(y, f"{name}-bn1"), f"{name}-act1")
    # v1.5: the stride sits on the 3x3 convolution, not the first 1x1.
    y = conv2d(y, width, 3, strides=stride, groups=config.cardinality, name=f"{name}-conv2")
    y = relu(batch_norm(y, f"{name}-bn2"), f"{name}-act2")
    y = conv2d(y, out_channels, 1, name=f"{name}-conv3")
    y = batch_norm(y, f"{name}-bn3", zero_init=True)
    y = attention(y, config, f"{name}-se")
    y = drop_path(y, drop_path_rate, f"{name}-drop_path")
    y = keras.layers.Add(name=f"{name}-add")([y, shortcut])
    return relu(y, f"{name}-act3")
