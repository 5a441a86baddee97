"""RepVGG stages and stem (Ding et al., RepVGG: Making VGG-style ConvNets Great Again, 2021)."""

from keras_resfamily.families.residual.blocks.common import BlockConfig
from keras_resfamily.layers import RepVGGBlock


def repvgg_block(x, planes, stride, config: BlockConfig, name, drop_path_rate=0.0):
    """One RepVGG block with `planes` output channels.

    `block_args` may hold `groups`: the paper's "gN" variants group the convolutions of every
    second layer, which in timm's (and the official) layer numbering is every odd block of a stage.
    """
    if config.cardinality != 1 or config.attention is not None:
        raise ValueError(
            "RepVGG blocks take their groups from block_args=(('groups', g),) and have no attention; "
            f"received cardinality={config.cardinality}, attention={config.attention!r}."
        )
    groups = dict(config.block_args).get("groups", 1)
    return RepVGGBlock(planes, strides=stride, groups=groups if config.block_index % 2 else 1,
                       drop_path_rate=drop_path_rate, name=name)(x)


def repvgg_stem(x, spec):
    """A stride-2 RepVGG block from the image to `stem_width` channels (timm `stem`)."""
    return RepVGGBlock(spec.stem_width, strides=2, name="stem")(x)
