"""ResNeSt bottleneck (Zhang et al., 2020): 1x1 -> Split-Attention 3x3 -> 1x1, avg-pool downsampling."""

from keras_resfamily.families.residual.blocks.block_args import avg_pool_3x3, block_options
from keras_resfamily.families.residual.blocks.bottleneck import EXPANSION, bottleneck_width
from keras_resfamily.families.residual.blocks.common import (
    BlockConfig, batch_norm, check_groups, conv2d, relu, residual_sum, shortcut_branch,
)
from keras_resfamily.layers import SplitAttention

BLOCK_ARGS = ("radix", "avd", "avd_first")


def resnest_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    """timm `ResNestBottleneck`. `block_args`: radix (splits, 1 = sigmoid gate), avd (a 3x3
    average pool does the block's striding instead of the conv), avd_first (pool before the
    split-attention conv instead of after)."""
    if config.attention is not None:
        raise ValueError(f"ResNeSt blocks have no extra attention module; received attention={config.attention!r}.")
    options = block_options(config.block_args, BLOCK_ARGS, dict(radix=2, avd=True, avd_first=False))
    # ResNeSt truncates planes * base_width / 64 before multiplying by cardinality, like ResNeXt.
    width = bottleneck_width(planes, config.cardinality, config.base_width)
    check_groups(width, config.cardinality)
    out_channels = planes * EXPANSION
    avd_stride = stride if options["avd"] and stride > 1 else 0
    conv_stride = 1 if avd_stride else stride
    shortcut = shortcut_branch(x, out_channels, stride, config, name)
    y = conv2d(x, width, 1, name=f"{name}-conv1")
    y = relu(batch_norm(y, f"{name}-bn1"), f"{name}-act1")
    if avd_stride and options["avd_first"]:
        y = avg_pool_3x3(y, avd_stride, f"{name}-avd_first")
    y = SplitAttention(width, 3, strides=conv_stride, cardinality=config.cardinality, radix=options["radix"],
                       name=f"{name}-conv2")(y)
    if avd_stride and not options["avd_first"]:
        y = avg_pool_3x3(y, avd_stride, f"{name}-avd_last")
    y = conv2d(y, out_channels, 1, name=f"{name}-conv3")
    y = batch_norm(y, f"{name}-bn3", zero_init=True)
    # Stochastic depth drops the residual branch (timm's ResNeSt drops its block input instead;
    # identical at inference).
    y = residual_sum(y, shortcut, name, drop_path_rate)
    return relu(y, f"{name}-act3")
