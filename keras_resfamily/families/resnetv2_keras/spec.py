"""The row type of keras.applications' ResNetV2 layout."""

import dataclasses
from typing import Tuple

from keras_resfamily.families.resnetv2_keras.builder import build_trunk
from keras_resfamily.specs import ArchSpec


@dataclasses.dataclass(frozen=True, kw_only=True)
class KerasResNetV2Spec(ArchSpec):
    """A pre-activation bottleneck ResNet in keras.applications' (TF-slim's) layout.

    Attributes:
        depths: blocks per stage (keras.applications' conv2 ... conv5).
        widths: per-stage bottleneck channels; a stage outputs 4x as many.
        strides: per-stage stride, taken in the stage's last block.
        stem_width: channels of the stem conv.
    """

    depths: Tuple[int, ...]
    widths: Tuple[int, ...] = (64, 128, 256, 512)
    strides: Tuple[int, ...] = (2, 2, 2, 1)
    stem_width: int = 64

    classifier_name = "predictions"
    dropout_name = "top_dropout"

    def __post_init__(self):
        if not len(self.depths) == len(self.widths) == len(self.strides):
            raise ValueError(f"{self.name}: depths, widths and strides must have the same length; received "
                             f"depths={self.depths}, widths={self.widths}, strides={self.strides}")

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def summary(self) -> str:
        return (f"pre-activation bottleneck blocks {list(self.depths)}, keras.applications layout "
                "(stride in each stage's last block)")

    def code_path(self) -> tuple:
        return ("keras_preact_bottleneck",)

    def block_kind(self) -> tuple:
        return ("keras_preact_bottleneck",)

    def size_rank(self) -> tuple:
        return (sum(self.depths),)

    def num_blocks(self) -> int:
        return sum(self.depths)
