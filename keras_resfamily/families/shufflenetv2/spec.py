"""The shufflenetv2 family's spec type: torchvision's `ShuffleNetV2(stages_repeats, stages_out_channels)`."""

import dataclasses
from typing import Tuple

from keras_resfamily.families.shufflenetv2.builder import build_trunk
from keras_resfamily.specs import ArchSpec, pytorch_halved


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShuffleNetV2Spec(ArchSpec):
    """A ShuffleNet V2 (Ma et al., 2018) as torchvision builds it.

    Attributes:
        stage_repeats: units in stage2, stage3, stage4 (the first of each has stride 2).
        stage_channels: torchvision's `stages_out_channels`: the stem conv's, each stage's and conv5's
            output channels (5 values; the stage widths are even: each unit splits them in two).
        bn_epsilon: BatchNorm epsilon (torch's default).
    """

    stage_repeats: Tuple[int, int, int] = (4, 8, 4)
    stage_channels: Tuple[int, int, int, int, int]
    bn_epsilon: float = 1e-5

    def __post_init__(self):
        if len(self.stage_repeats) != 3 or not all(isinstance(r, int) and r > 0 for r in self.stage_repeats):
            raise ValueError(f"{self.name}: `stage_repeats` must be 3 positive integers; received {self.stage_repeats!r}.")
        if len(self.stage_channels) != 5 or not all(isinstance(c, int) and c > 0 for c in self.stage_channels):
            raise ValueError(f"{self.name}: `stage_channels` must be 5 positive integers; "
                             f"received {self.stage_channels!r}.")
        if any(c % 2 for c in self.stage_channels[1:4]):
            raise ValueError(f"{self.name}: the stage widths must be even (each unit splits them in two); "
                             f"received {self.stage_channels[1:4]!r}.")

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def feature_map_size(self, size, stride):
        """torchvision's arithmetic: each halving (conv1, maxpool, a stage's first unit) maps n to
        floor((n - 1) / 2) + 1 (= ceil(n / 2))."""
        for _ in range(stride.bit_length() - 1):
            size = pytorch_halved(size)
        return size

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        stem, *stages, last = self.stage_channels
        repeats = "/".join(map(str, self.stage_repeats))
        widths = "/".join(map(str, stages))
        return (f"3x3 stride-2 stem conv ({stem}) and max pool, {self.num_blocks()} ShuffleNet V2 units in stages "
                f"of {repeats} ({widths} channels; channel split, two branches concatenated, channel shuffle in "
                f"2 groups), 1x1 conv to {last}; no residual additions: `drop_path_rate` has no effect")

    def code_path(self) -> tuple:
        return ("shufflenet_v2_unit",)

    def block_kind(self) -> tuple:
        return ("shufflenet_v2_unit",)

    def size_rank(self) -> tuple:
        return (self.stage_channels[-1], self.stage_channels[1])

    def num_blocks(self) -> int:
        return sum(self.stage_repeats)
