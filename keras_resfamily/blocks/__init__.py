"""Residual block types by key: the `block` field of a spec names one of these."""

import dataclasses
from typing import Callable

from keras_resfamily.blocks.basic import basic_block
from keras_resfamily.blocks.bottleneck import bottleneck_block
from keras_resfamily.blocks.common import BlockConfig
from keras_resfamily.blocks.preact import preact_basic_block, preact_bottleneck_block


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
}

__all__ = ["BLOCKS", "BlockConfig", "BlockType"]
