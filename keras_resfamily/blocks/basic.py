"""Basic residual block (ResNet-18/34): two 3x3 convolutions."""

import keras

from keras_resfamily.blocks.common import (
    BlockConfig, attention, batch_norm, conv2d, drop_path, projection_shortcut, relu,
)


def basic_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    if config.cardinality != 1 or config.base_width != 64:
        raise ValueError(
            "The basic block supports only cardinality=1 and base_width=64; received "
            f"cardinality={config.cardinality}, base_width={config.base_width}."
        )
    shortcut = x
    if stride != 1 or x.shape[-1] != planes:
        shortcut = projection_shortcut(x, planes, stride, config.avg_down, f"{name}-downsample")
    y = conv2d(x, planes, 3, strides=stride, name=f"{name}-conv1")
    y = relu(batch_norm(y, f"{name}-bn1"), f"{name}-act1")
    y = conv2d(y, planes, 3, name=f"{name}-conv2")
    y = batch_norm(y, f"{name}-bn2", zero_init=True)
    y = attention(y, config, f"{name}-se")
    y = drop_path(y, drop_path_rate, f"{name}-drop_path")
    y = keras.layers.Add(name=f"{name}-add")([y, shortcut])
    return relu(y, f"{name}-act2")
