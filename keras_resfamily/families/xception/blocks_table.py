"""The block-definition table of an Xception row: one `Block` per block kind, entry flow to exit flow."""

from typing import NamedTuple, Tuple


class Block(NamedTuple):
    """One row of the table.

    Attributes:
        widths: output channels of the block's 3x3 separable convolutions (the last is the block's).
        stride: the block's downsampling: its last depthwise conv (aligned, pre-activation) or the
            max pool closing it (legacy).
        repeats: consecutive identical blocks (the middle flow).
        skip: a residual block (identity shortcut, or 1x1 conv + BN where channels or stride change);
            False: the exit flow's plain stack, which in the post-activation styles puts a ReLU after
            each BN instead of before each separable conv.
        first_relu: a residual block starts with a ReLU (legacy's first block does not: its input is
            the stem's ReLU output).
    """

    widths: Tuple[int, ...]
    stride: int = 1
    repeats: int = 1
    skip: bool = True
    first_relu: bool = True


def expand(blocks):
    """One row per block (repeats unrolled)."""
    return tuple(block._replace(repeats=1) for block in blocks for _ in range(block.repeats))
