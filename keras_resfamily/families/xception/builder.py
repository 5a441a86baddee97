"""The xception family's builder: stem, the block table, and (pre-activation) the final ReLU."""

from typing import Callable, NamedTuple

from keras_resfamily.families.xception import aligned, legacy
from keras_resfamily.families.xception.blocks_table import expand


class Style(NamedTuple):
    stem: Callable
    block: Callable  # (x, block, index, spec, drop_path_rate) -> (output, feature tap)
    end: Callable = lambda x: x


STYLES = {
    "legacy": Style(legacy.stem, legacy.block),
    "aligned": Style(aligned.stem, aligned.block),
    "preact": Style(aligned.stem, aligned.preact_block, aligned.preact_end),
}


def build_trunk(x, spec, drop_path_rate):
    """The trunk's output and its feature maps: timm's feature taps ("stride2" ... "stride16": the tap
    each strided block gives at the reduction before its stride) and "stride32", the map the head pools."""
    style = STYLES[spec.style]
    x = style.stem(x, spec)
    stride, features = 2, {"stride2": x}
    blocks = expand(spec.blocks)
    last = max(len(blocks) - 1, 1)
    for index, block in enumerate(blocks):
        # Linearly increasing drop-path rate over all blocks, `drop_path_rate` at the last one (timm's rule).
        x, tap = style.block(x, block, index, spec, drop_path_rate * index / last)
        if block.stride > 1:
            features[f"stride{stride}"] = tap
            stride *= block.stride
    x = style.end(x)
    features[f"stride{stride}"] = x
    return x, features
