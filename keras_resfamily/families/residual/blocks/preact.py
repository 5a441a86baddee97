"""Pre-activation blocks (ResNetV2, He et al. 2016; Wide ResNet): BN-ReLU before each conv.

The shortcut projection (when needed) takes the pre-activated input, as in the reference.
The last conv of each residual branch starts at zero (timm's `zero_init_last`; timm's own default
leaves it random): the un-normalised residual stream of a random-init pre-activation net otherwise
roughly doubles its variance per block and overflows float16 in eval mode from ~30 blocks
(ResNet101V2) on.
"""

from keras_resfamily.families.residual.blocks.common import BlockConfig, batch_norm, check_groups, conv2d, relu, residual_sum
from keras_resfamily.layers.utils import make_divisible


def _preact(x, name):
    return relu(batch_norm(x, name), f"{name}-act")


def _shortcut(x, x_preact, out_channels, stride, name):
    if stride != 1 or x.shape[-1] != out_channels:
        return conv2d(x_preact, out_channels, 1, strides=stride, name=f"{name}-downsample-conv")
    return x


def preact_bottleneck_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    out_channels = planes * 4
    mid = make_divisible(out_channels * 0.25)
    check_groups(mid, config.cardinality)
    x_preact = _preact(x, f"{name}-norm1")
    shortcut = _shortcut(x, x_preact, out_channels, stride, name)
    y = conv2d(x_preact, mid, 1, name=f"{name}-conv1")
    y = conv2d(_preact(y, f"{name}-norm2"), mid, 3, strides=stride, groups=config.cardinality, name=f"{name}-conv2")
    y = conv2d(_preact(y, f"{name}-norm3"), out_channels, 1, name=f"{name}-conv3", kernel_initializer="zeros")
    return residual_sum(y, shortcut, name, drop_path_rate)


def preact_basic_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    x_preact = _preact(x, f"{name}-norm1")
    shortcut = _shortcut(x, x_preact, planes, stride, name)
    y = conv2d(x_preact, planes, 3, strides=stride, name=f"{name}-conv1")
    y = conv2d(_preact(y, f"{name}-norm2"), planes, 3, name=f"{name}-conv2", kernel_initializer="zeros")
    return residual_sum(y, shortcut, name, drop_path_rate)
