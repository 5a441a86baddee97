"""The shufflenetv1 family's spec type: the release's `ShuffleNetV1(group, model_size)` as channel tables."""

import dataclasses
from typing import Tuple

from keras_resfamily.families.shufflenetv1.builder import build_head, build_trunk
from keras_resfamily.specs import ArchSpec, pytorch_halved


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShuffleNetV1Spec(ArchSpec):
    """A ShuffleNet V1 (Zhang et al., 2017) as Megvii's release builds it.

    Attributes:
        groups: groups of the pointwise convolutions (1: plain convolutions and no channel shuffle).
        width: the paper's width multiplier ("s" in "ShuffleNet s x"), for descriptions only.
        stage_channels: the release's `stage_out_channels[1:]`: the stem conv's and each stage's output
            channels (4 values); a unit's bottleneck has a quarter of its output channels.
        stage_repeats: units in stages 2, 3, 4 (the first of each has stride 2).
        bn_epsilon: BatchNorm epsilon (torch's default).
    """

    groups: int
    width: float = 1.0
    stage_channels: Tuple[int, int, int, int]
    stage_repeats: Tuple[int, int, int] = (4, 8, 4)
    bn_epsilon: float = 1e-5

    classifier_name = "classifier-0"  # the release's `classifier` Sequential holds one bias-free Linear

    def __post_init__(self):
        if not isinstance(self.groups, int) or self.groups < 1:
            raise ValueError(f"{self.name}: `groups` must be a positive integer; received {self.groups!r}.")
        if len(self.stage_channels) != 4 or len(self.stage_repeats) != 3:
            raise ValueError(f"{self.name}: `stage_channels` needs 4 values and `stage_repeats` 3; received "
                             f"{self.stage_channels!r}, {self.stage_repeats!r}.")
        inputs = self.stage_channels[0]
        for stage, channels in enumerate(self.stage_channels[1:]):
            # Every grouped conv's inputs and outputs and the shuffled bottleneck split into `groups`.
            grouped = [channels // 4, channels - inputs, channels] + ([inputs] if stage else [])
            if any(c <= 0 or c % self.groups for c in grouped):
                raise ValueError(f"{self.name}: stage {stage + 2} ({inputs} -> {channels} channels, bottleneck "
                                 f"{channels // 4}) does not split into {self.groups} groups.")
            inputs = channels

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def build_head(self, x, features, classes, classifier_activation, dropout_rate):
        return build_head(x, self, classes, classifier_activation, dropout_rate)

    def feature_map_size(self, size, stride):
        """The release's arithmetic: each halving (first_conv, maxpool, a stage's first unit: conv and
        average pool alike) maps n to floor((n - 1) / 2) + 1 (= ceil(n / 2))."""
        for _ in range(stride.bit_length() - 1):
            size = pytorch_halved(size)
        return size

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        stem, *stages = self.stage_channels
        repeats = "/".join(map(str, self.stage_repeats))
        widths = "/".join(map(str, stages))
        grouping = (f"1x1 convs in {self.groups} groups (stage 2's first ungrouped), a channel shuffle" if self.groups > 1
                    else "ungrouped 1x1 convs, no channel shuffle")
        return (f"ShuffleNet {self.width:g}x (g = {self.groups}): 3x3 stride-2 stem conv ({stem}) and max pool, "
                f"{self.num_blocks()} bottleneck units in stages of {repeats} ({widths} channels; {grouping}; "
                "3x3 depthwise conv; stride-2 units concatenate a 3x3 average-pooled shortcut), bias-free classifier")

    def code_path(self) -> tuple:
        return ("shufflenet_v1_unit", "grouped" if self.groups > 1 else "ungrouped")

    def block_kind(self) -> tuple:
        return ("shufflenet_v1_unit",)

    def size_rank(self) -> tuple:
        # The classifier's and stage 4's pointwise weights, which dominate the parameter count.
        last = self.stage_channels[-1]
        return (last * (self.num_classes + last // self.groups),)

    def num_blocks(self) -> int:
        return sum(self.stage_repeats)
