"""Chollet's Xception as keras.applications builds it, under timm `legacy_xception`'s module names.

Stem: conv1 (3x3 stride 2, unpadded) / bn1 / act1, conv2 (3x3, unpadded) / bn2 / act2. A residual
block `blockN` is the Sequential `rep`: [ReLU] separable conv, BN, (ReLU, separable conv, BN)...,
then a 3x3 stride-2 max pool (padding 1) where it downsamples; its shortcut is `skip` + `skipbn`
(1x1 conv + BN) where channels or stride change. A separable conv is a depthwise 3x3 (`conv1`) and a
pointwise 1x1 (`pointwise`) with no BN between them. The exit flow's plain stack is conv3 / bn3 /
act3, conv4 / bn4 / act4.
"""

import itertools

from keras_resfamily.families.xception import convs
from keras_resfamily.layers import PaddedMaxPooling2D

STEM_WIDTHS = (32, 64)


def stem(x, spec):
    for number, width in enumerate(STEM_WIDTHS, start=1):
        x = convs.conv(x, width, 3, f"conv{number}", spec, strides=2 if number == 1 else 1)
        x = convs.batch_norm(x, f"bn{number}", spec)
        x = convs.relu(x, f"act{number}")
    return x


def _separable(x, width, name, spec):
    x = convs.depthwise(x, f"{name}-conv1", spec)
    return convs.conv(x, width, 1, f"{name}-pointwise", spec)


def _residual_block(x, block, index, spec, drop_path_rate):
    prefix = f"block{index + 1}"
    position = itertools.count()  # index in the reference's `rep` Sequential
    y = tap = x
    for i, width in enumerate(block.widths):
        if i or block.first_relu:
            y = convs.relu(y, f"{prefix}-rep-{next(position)}")
            tap = y if i == 0 else tap
        y = _separable(y, width, f"{prefix}-rep-{next(position)}", spec)
        y = convs.batch_norm(y, f"{prefix}-rep-{next(position)}", spec)
    if block.stride > 1:
        y = PaddedMaxPooling2D(3, block.stride, padding=1, name=f"{prefix}-rep-{next(position)}")(y)
    shortcut = x
    if x.shape[-1] != block.widths[-1] or block.stride != 1:
        shortcut = convs.conv(x, block.widths[-1], 1, f"{prefix}-skip", spec, strides=block.stride)
        shortcut = convs.batch_norm(shortcut, f"{prefix}-skipbn", spec)
    return convs.residual(y, shortcut, prefix, drop_path_rate), tap


def _exit_stack(x, block, spec):
    for number, width in enumerate(block.widths, start=len(STEM_WIDTHS) + 1):
        x = _separable(x, width, f"conv{number}", spec)
        x = convs.batch_norm(x, f"bn{number}", spec)
        x = convs.relu(x, f"act{number}")
    return x


def block(x, block, index, spec, drop_path_rate):
    """(output, feature tap): the tap is the block's ReLU-activated input, timm's feature map at the
    reduction before this block's stride."""
    if not block.skip:
        return _exit_stack(x, block, spec), x
    return _residual_block(x, block, index, spec, drop_path_rate)
