"""The squeezenet family's spec type: a stem conv and a table of Fire modules and max pools."""

import dataclasses
from typing import Tuple, Union

from keras_resfamily.families.squeezenet.builder import POOL, build_head, build_trunk
from keras_resfamily.specs import ArchSpec


@dataclasses.dataclass(frozen=True, kw_only=True)
class SqueezeNetSpec(ArchSpec):
    """A SqueezeNet: a stride-2 unpadded stem conv + ReLU, Fire modules and ceil-mode max pools, and a
    convolutional classifier (1x1 conv, ReLU, global average pool).

    Attributes:
        stem_width, stem_kernel: the stem conv's channels and kernel size.
        layers: torchvision's `features` after the stem conv and its ReLU, in order: "pool" (3x3 stride-2
            ceil-mode max pool) or (squeeze, expand) for a Fire module (its expand1x1 and expand3x3
            each have `expand` channels).
        recipe_dropout: the reference's dropout before the classifier conv (pass it as `dropout_rate=`
            to train as torchvision did; it changes no weights).
    """

    stem_width: int
    stem_kernel: int
    layers: Tuple[Union[str, Tuple[int, int]], ...]
    recipe_dropout: float = 0.5

    # torchvision's classifier Sequential: Dropout (0), Conv2d (1), ReLU (2), AdaptiveAvgPool2d (3).
    classifier_name = "classifier-1"
    dropout_name = "classifier-0"
    output_stride = 16  # the stem conv and three max pools

    def __post_init__(self):
        for entry in self.layers:
            if entry != POOL and not (isinstance(entry, tuple) and len(entry) == 2 and all(
                    isinstance(c, int) and c > 0 for c in entry)):
                raise ValueError(f"{self.name}: each of `layers` must be {POOL!r} or (squeeze, expand) channels; "
                                 f"received {entry!r}.")

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def feature_map_size(self, size, stride):
        """torchvision's arithmetic: the unpadded stride-2 stem conv, then 3x3 / 2 ceil-mode pools."""
        size = (size - self.stem_kernel) // 2 + 1
        for _ in range(stride.bit_length() - 2):  # one pool per further halving
            size = -(-(size - 3) // 2) + 1
        return size

    def build_head(self, x, features, classes, classifier_activation, dropout_rate):
        return build_head(x, self, classes, classifier_activation, dropout_rate)

    def _fires(self):
        return [entry for entry in self.layers if entry != POOL]

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        fires_before = [i - self.layers[:i].count(POOL) for i, entry in enumerate(self.layers) if entry == POOL]
        where = ", ".join(f"Fire {n}" if n else "the stem" for n in fires_before)
        return (f"{self.stem_kernel}x{self.stem_kernel} stem conv ({self.stem_width}), {len(self._fires())} Fire "
                f"modules, ceil-mode max pools after {where}, convolutional classifier")

    def code_path(self) -> tuple:
        return ("fire",)

    def block_kind(self) -> tuple:
        return ("fire",)

    def size_rank(self) -> tuple:
        # The rows differ in the stem and in where they pool; the stem's cost orders them (1.1 < 1.0).
        return (self.stem_width * self.stem_kernel ** 2,)

    def num_blocks(self) -> int:
        return len(self._fires())
