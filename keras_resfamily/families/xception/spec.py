"""The xception family's spec type: a block-definition table in one of three block styles."""

import dataclasses
from typing import Tuple

from keras_resfamily.families.xception.blocks_table import Block, expand
from keras_resfamily.families.xception.builder import STYLES, build_trunk
from keras_resfamily.specs import ArchSpec

STYLE_LABELS = {
    "legacy": "Xception (separable conv = dw + pw, then BN; max-pool downsampling)",
    "aligned": "aligned Xception (BN after dw and after pw; strided depthwise downsampling)",
    "preact": "pre-activation aligned Xception (BN-ReLU before each separable conv)",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class XceptionSpec(ArchSpec):
    """An Xception: stem, residual blocks of 3x3 separable convolutions, an exit-flow stack.

    Attributes:
        blocks: the block-definition table, entry flow to exit flow (`blocks_table.Block` rows).
        style: "legacy" (Chollet's Xception as keras.applications builds it: timm `legacy_xception`),
            "aligned" (DeepLab's aligned Xception: timm `xception41/65/71`) or "preact" (its
            pre-activation version: timm `xception41p/65p`); see legacy.py and aligned.py.
        bn_epsilon: BatchNorm epsilon (1e-3 for timm's TF-ported aligned rows and xception65p, PyTorch's
            1e-5 for legacy_xception and xception41p).
    """

    blocks: Tuple[Block, ...]
    style: str = "aligned"
    bn_epsilon: float = 1e-3

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"{self.name}: `style` must be one of {tuple(STYLES)}; received style={self.style!r}.")
        if not self.blocks or not all(isinstance(b, Block) and b.widths and b.repeats >= 1 for b in self.blocks):
            raise ValueError(f"{self.name}: `blocks` must be a non-empty tuple of `Block` rows with widths; "
                             f"received blocks={self.blocks!r}.")
        if self.style != "legacy" and not all(b.first_relu for b in self.blocks):
            raise ValueError(f"{self.name}: only legacy blocks may start without a ReLU (first_relu=False).")

    @property
    def classifier_name(self) -> str:
        return "fc" if self.style == "legacy" else "head-fc"

    @property
    def dropout_name(self) -> str:
        return "drop" if self.style == "legacy" else "head-drop"

    def feature_map_size(self, size, stride):
        """Legacy: the unpadded 3x3 stem convs (stride 2, then 1), then padded stride-2 pools that halve
        rounding up. The aligned styles pad every conv: ceil(size / stride)."""
        if self.style != "legacy":
            return super().feature_map_size(size, stride)
        size = (size - 3) // 2 + 1 - 2
        for _ in range(stride.bit_length() - 2):
            size = -(-size // 2)
        return size

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        middle = max(self.blocks, key=lambda b: b.repeats)
        return (f"{STYLE_LABELS[self.style]}, {self.num_blocks()} blocks of 3x3 separable convs "
                f"({middle.repeats} x {middle.widths[-1]} channels in the middle flow)")

    def code_path(self) -> tuple:
        return (self.style,)

    def block_kind(self) -> tuple:
        return (self.style,)

    def size_rank(self) -> tuple:
        return (self.num_blocks(), sum(len(b.widths) * b.repeats for b in self.blocks))

    def num_blocks(self) -> int:
        return len(expand(self.blocks))
