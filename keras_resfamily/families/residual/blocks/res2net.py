"""Res2Net bottleneck (Gao et al., 2019): hierarchical 3x3 convolutions over channel splits."""

import keras

from keras_resfamily.families.residual.blocks.block_args import avg_pool_3x3, block_options
from keras_resfamily.families.residual.blocks.bottleneck import EXPANSION, bottleneck_width
from keras_resfamily.families.residual.blocks.common import (
    BlockConfig, attention, batch_norm, check_groups, conv2d, relu, residual_sum, shortcut_branch,
)


def res2net_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    """timm `Bottle2neck`. `block_args`: scale (number of channel splits).

    The 1x1 conv output is split into `scale` groups of `width` channels. Split i > 0 is added to
    the previous split's output before its own 3x3 conv-BN-ReLU, so later splits see growing
    receptive fields. The last split passes through untouched (average-pooled in the first block
    of a stage). In a stage's first block every split is convolved independently, as in the
    reference.
    """
    scale = block_options(config.block_args, ("scale",), dict(scale=4))["scale"]
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"`scale` must be a positive integer; received scale={scale!r}.")
    width = bottleneck_width(planes, config.cardinality, config.base_width)
    check_groups(width, config.cardinality)
    out_channels = planes * EXPANSION
    shortcut = shortcut_branch(x, out_channels, stride, config, name)
    is_first = shortcut is not x  # timm's 'stage' block type: the block that projects its shortcut
    y = conv2d(x, width * scale, 1, name=f"{name}-conv1")
    y = relu(batch_norm(y, f"{name}-bn1"), f"{name}-act1")
    splits = keras.ops.split(y, scale, axis=-1) if scale > 1 else [y]
    outputs = []
    for i in range(max(1, scale - 1)):
        z = splits[i]
        if i > 0 and not is_first:
            z = keras.layers.Add(name=f"{name}-convs-{i}-add")([outputs[-1], z])
        z = conv2d(z, width, 3, strides=stride, groups=config.cardinality, name=f"{name}-convs-{i}")
        outputs.append(relu(batch_norm(z, f"{name}-bns-{i}"), f"{name}-bns-{i}-act"))
    if scale > 1:
        outputs.append(avg_pool_3x3(splits[-1], stride, f"{name}-pool") if is_first else splits[-1])
    y = keras.layers.Concatenate(name=f"{name}-cat")(outputs) if len(outputs) > 1 else outputs[0]
    y = conv2d(y, out_channels, 1, name=f"{name}-conv3")
    y = batch_norm(y, f"{name}-bn3", zero_init=True)
    y = attention(y, config, f"{name}-se")
    y = residual_sum(y, shortcut, name, drop_path_rate)
    return relu(y, f"{name}-act3")
