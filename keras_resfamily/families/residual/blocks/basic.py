"""Basic residual block (ResNet-18/34): two 3x3 convolutions."""

from keras_resfamily.families.residual.blocks.common import (
    BlockConfig, attention, batch_norm, conv2d, relu, residual_sum, shortcut_branch,
)


def basic_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    if config.cardinality != 1 or config.base_width != 64:
        raise ValueError(
            "The basic block supports only cardinality=1 and base_width=64; received "
            f"cardinality={config.cardinality}, base_width={config.base_width}."
        )
    shortcut = shortcut_branch(x, planes, stride, config, name)
    y = conv2d(x, planes, 3, strides=stride, name=f"{name}-conv1")
    y = relu(batch_norm(y, f"{name}-bn1"), f"{name}-act1")
    y = conv2d(y, planes, 3, name=f"{name}-conv2")
    y = batch_norm(y, f"{name}-bn2", zero_init=True)
    y = attention(y, config, f"{name}-se")
    y = residual_sum(y, shortcut, name, drop_path_rate)
    return relu(y, f"{name}-act2")
