"""Residual block types by key: the `block` field of a spec names one of these."""

from keras_resfamily.families.residual.blocks.basic import basic_block
from keras_resfamily.families.residual.blocks.bottleneck import bottleneck_block
from keras_resfamily.families.residual.blocks.byob import byob_bottleneck_block
from keras_resfamily.families.residual.blocks.common import BlockConfig
from keras_resfamily.families.residual.blocks.preact import preact_basic_block, preact_bottleneck_block
from keras_resfamily.families.residual.blocks.repvgg import repvgg_block
from keras_resfamily.families.residual.blocks.res2net import res2net_block
from keras_resfamily.families.residual.blocks.resnest import resnest_block
from keras_resfamily.families.residual.blocks.selective_kernel import sk_basic_block, sk_bottleneck_block


# Each is fn(x, planes, stride, config: BlockConfig, name, drop_path_rate) -> x.
BLOCKS = {
    "basic": basic_block,
    "bottleneck": bottleneck_block,
    "preact_basic": preact_basic_block,
    "preact_bottleneck": preact_bottleneck_block,
    "repvgg": repvgg_block,
    "byob_bottleneck": byob_bottleneck_block,
    "resnest": resnest_block,
    "sk_basic": sk_basic_block,
    "sk_bottleneck": sk_bottleneck_block,
    "res2net": res2net_block,
}

__all__ = ["BLOCKS", "BlockConfig"]
