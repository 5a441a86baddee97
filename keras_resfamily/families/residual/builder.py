"""The residual family's builder: stem, then stages of residual blocks (the head is shared, builder.py)."""

import dataclasses

from keras_resfamily.families.residual.blocks import BLOCKS, BlockConfig
from keras_resfamily.families.residual.blocks.common import batch_norm, relu
from keras_resfamily.families.residual.layouts import LAYOUTS, block_name
from keras_resfamily.families.residual.stems import STEMS, stem_stride


def build_trunk(x, spec, drop_path_rate):
    """Stem and residual stages; returns the output and the stage features keyed by stride."""
    x = STEMS[spec.stem](x, spec)
    layout = LAYOUTS[spec.layout]
    block_fn = BLOCKS[spec.block]
    config = BlockConfig(
        cardinality=spec.cardinality,
        base_width=spec.base_width,
        avg_down=spec.avg_down,
        attention=spec.attention,
        attention_args=spec.attention_args,
        block_args=spec.block_args,
    )
    total = sum(spec.depths)
    index = 0
    stride = stem_stride(spec)
    features = {}
    for stage, (depth, planes, first_stride) in enumerate(zip(spec.depths, spec.widths, spec.strides)):
        for block in range(depth):
            # Linearly increasing drop-path rate over all blocks (timm / Huang et al.).
            rate = drop_path_rate * index / max(total - 1, 1)
            x = block_fn(
                x, planes, first_stride if block == 0 else 1,
                dataclasses.replace(config, stage_index=stage, block_index=block),
                block_name(layout, stage, block), rate,
            )
            index += 1
        stride *= first_stride
        features[f"stride{stride}"] = x
    if layout.final_norm:
        x = relu(batch_norm(x, layout.final_norm), f"{layout.final_norm}-act")
        features[f"stride{stride}"] = x
    return x, features
