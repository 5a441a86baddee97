"""The dpn family's spec type: timm's `DPN` arguments, plus the `remat` option."""

import dataclasses
from typing import Tuple

from keras_resfamily.families.dpn.builder import STAGE_WIDTHS, build_trunk
from keras_resfamily.specs import RematArchSpec

ACTIVATIONS = {"relu": "ReLU", "silu": "SiLU"}  # Keras name: name in summaries


@dataclasses.dataclass(frozen=True, kw_only=True)
class DPNSpec(RematArchSpec):
    """A Dual Path Network: a stem, four stages of dual-path blocks, a final BN + activation.

    Attributes (timm's `DPN` arguments in brackets):
        stem_kernel: 3 for the small rows, 7 otherwise (`small`).
        stem_width: the stem conv's channels (`num_init_features`).
        k_r: bottleneck width per 64 residual channels: a stage of residual width w runs its 1x1 and
            grouped 3x3 convs with k_r * w / 64 channels.
        groups: groups of the 3x3 convs.
        depths, increments: blocks per stage and dense channels each block adds (`k_sec`, `inc_sec`).
        width_factor: residual width per stage = width_factor * (64, 128, 256, 512) (`small`: 1, else 4).
        b: the 'b' variants: the block's last 1x1 conv is two convs, one per slice (c1x1_c1, c1x1_c2).
        act: activation of the stem and of the final BN (`act_layer`); the blocks use ReLU either way.
        remat: gradient checkpointing of every dual-path block (the constructors' `remat=True`).
    """

    stem_kernel: int
    stem_width: int
    k_r: int
    groups: int
    depths: Tuple[int, int, int, int]
    increments: Tuple[int, int, int, int]
    width_factor: int
    b: bool = False
    act: str = "relu"
    remat_unit = "dual-path block"

    classifier_name = "classifier"  # timm's 1x1-conv classifier, a Dense on the pooled map here

    def __post_init__(self):
        if self.stem_kernel not in (3, 7) or self.act not in ACTIVATIONS:
            raise ValueError(f"{self.name}: stem_kernel must be 3 or 7 and act one of {tuple(ACTIVATIONS)}; received "
                             f"stem_kernel={self.stem_kernel}, act={self.act!r}.")
        if len(self.depths) != 4 or len(self.increments) != 4 or min(self.depths) < 1:
            raise ValueError(f"{self.name}: `depths` and `increments` need four stages; received "
                             f"depths={self.depths}, increments={self.increments}.")
        for width in STAGE_WIDTHS:
            if (self.k_r * width // 64) % self.groups:
                raise ValueError(f"{self.name}: groups={self.groups} must divide every bottleneck width "
                                 f"k_r * w / 64 (k_r={self.k_r}).")

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def _stage_widths(self):
        return [w * self.width_factor for w in STAGE_WIDTHS]

    def summary(self) -> str:
        widths = "/".join(map(str, self._stage_widths()))
        increments = "/".join(map(str, self.increments))
        parts = [
            f"{self.stem_kernel}x{self.stem_kernel} stem conv ({self.stem_width}) and max pool",
            f"{self.num_blocks()} pre-activation dual-path blocks {self.depths} with {self.groups}-group 3x3 convs",
            f"residual widths {widths}, dense increments {increments}",
        ]
        if self.b:
            parts.append("the last 1x1 conv split per path ('b')")
        if self.act != "relu":
            parts.append(f"{ACTIVATIONS[self.act]} stem and final "
                         "activation (ReLU in the blocks)")
        parts.append("no drop path (`drop_path_rate` has no effect)")
        return ", ".join(parts)

    def code_path(self) -> tuple:
        return (self.stem_kernel, self.b, self.act, self.remat)

    def block_kind(self) -> tuple:
        return ("dual_path",)

    def size_rank(self) -> tuple:
        return (self.num_blocks(), self.k_r * self.width_factor)

    def num_blocks(self) -> int:
        return sum(self.depths)
