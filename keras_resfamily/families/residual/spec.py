"""The residual family's spec type: which stem, block, attention and layout a row assembles."""

import dataclasses
from typing import Optional, Tuple

from keras_resfamily.families.residual.builder import build_trunk
from keras_resfamily.families.residual.layouts import LAYOUTS
from keras_resfamily.specs import ArchSpec


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResidualSpec(ArchSpec):
    """A residual network: stem, stages of residual blocks, global pool, classifier.

    Attributes:
        block: key in `keras_resfamily.families.residual.blocks.BLOCKS` ("basic", "bottleneck", ...).
        depths: residual blocks per stage.
        widths: per-stage "planes" (the bottleneck width before `base_width` scaling);
            the stage output is `widths[i] * expansion` of the block.
        strides: per-stage strides of the first block.
        cardinality: groups of the 3x3 convolution (ResNeXt).
        base_width: channels per group at `widths[i] == 64` (ResNeXt's "d").
        stem: key in `keras_resfamily.families.residual.stems.STEMS`.
        stem_width: channels of the first stem convolutions.
        stem_pool: "max", "conv" (ResNet-RS stride-2 conv) or "none".
        avg_down: average-pool + 1x1 conv shortcut (ResNet-D) instead of strided 1x1 conv.
        attention: key in `keras_resfamily.families.residual.attention.ATTENTION` applied inside each block, or None.
        attention_args: (key, value) pairs passed to the attention factory.
        block_args: (key, value) pairs passed to the block function (radix, scale, ...).
        layout: naming scheme of layers, key in `keras_resfamily.families.residual.layouts.LAYOUTS`. Layer names
            mirror the reference implementation's module paths so weights map by name.
    """

    block: str
    depths: Tuple[int, ...]
    widths: Tuple[int, ...] = (64, 128, 256, 512)
    strides: Tuple[int, ...] = (1, 2, 2, 2)
    cardinality: int = 1
    base_width: int = 64
    stem: str = "conv7"
    stem_width: int = 64
    stem_pool: str = "max"
    avg_down: bool = False
    attention: Optional[str] = None
    attention_args: Tuple[Tuple[str, object], ...] = ()
    block_args: Tuple[Tuple[str, object], ...] = ()
    layout: str = "resnet"

    def __post_init__(self):
        if len(self.depths) != len(self.widths) or len(self.depths) != len(self.strides):
            raise ValueError(
                f"{self.name}: depths, widths and strides must have the same length; "
                f"received depths={self.depths}, widths={self.widths}, strides={self.strides}"
            )

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        parts = [f"{self.block} blocks {list(self.depths)}"]
        if self.cardinality > 1:
            parts.append(f"cardinality {self.cardinality} x {self.base_width}d")
        elif self.base_width != 64:
            parts.append(f"base width {self.base_width}")
        parts.append(f"{self.stem} stem" + (" + avg-down shortcut" if self.avg_down else ""))
        if self.attention:
            parts.append(f"{self.attention} attention")
        return ", ".join(parts)

    @property
    def classifier_name(self) -> str:
        return LAYOUTS[self.layout].classifier

    @property
    def dropout_name(self) -> str:
        return LAYOUTS[self.layout].dropout

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def code_path(self) -> tuple:
        grouped = self.cardinality > 1 or dict(self.block_args).get("groups", 1) > 1
        return (self.block, self.attention, grouped, self.stem, self.stem_pool, self.avg_down, self.layout,
                self.default_size <= 32)

    def block_kind(self) -> tuple:
        return (self.block, self.attention)

    def size_rank(self) -> tuple:
        return (sum(self.depths), sum(self.widths) * self.base_width)

    def num_blocks(self) -> int:
        return sum(self.depths)
