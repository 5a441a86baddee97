"""Residual block types by key: the `block` field of a spec names one of these."""

import dataclasses
from typing import Callable

from keras_resfamily.blocks.basic import basic_block
from keras_resfamily.blocks.bottleneck import bottleneck_block
from keras_resfamily.blocks.byob import byob_bottleneck_block
from keras_resfamily.blocks.common import BlockConfig
from keras_resfamily.blocks.preact import preact_basic_block, preact_bottleneck_block
from keras_resfamily.blocks.repvgg import repvgg_block
from keras_resfamily.blocks.res2net import res2net_block
from keras_resfamily.blocks.resnest import resnest_block
from keras_resfamily.blocks.selective_kernel import sk_basic_block, sk_bottleneck_block


@dataclasses.dataclass(frozen=True)
class BlockType:
    fn: Callable  # fn(x, planes, stride, config, name, drop_path_rate) -> x
    expansion: int  # output channels = planes * expansion
    preact: bool = False  # output is not normalised: the network ends with a final BN-ReLU


BLOCKS = {
    "basic": BlockType(basic_block, 1),
    "bottleneck": BlockType(bottleneck_block, 4),
    "preact_basic": BlockType(preact_basic_block, 1, preact=True),
    "preact_bottleneck": BlockType(preact_bottleneck_block, 4, preact=True),
    "repvgg": BlockType(repvgg_block, 1),
    "byob_bottleneck": BlockType(byob_bottleneck_block, 4),
    "resnest": BlockType(resnest_block, 4),
    "sk_basic": BlockType(sk_basic_block, 1),
    "sk_bottleneck": BlockType(sk_bottleneck_block, 4),
    "res2net": BlockType(res2net_block, 4),
}

__all__ = ["BLOCKS", "BlockConfig", "BlockType"]
