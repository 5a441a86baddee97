"""The densenet family's spec type: growth rate, layers per dense block, stem kind, and `remat`."""

import dataclasses
from typing import Tuple

from keras_resfamily.families.densenet.builder import build_trunk
from keras_resfamily.specs import RematArchSpec

STEMS = ("7x7", "deep")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DenseNetSpec(RematArchSpec):
    """A DenseNet-BC (Huang et al.): stem, dense blocks of bottleneck layers joined by transitions that
    halve the channels and the resolution, final norm + ReLU.

    Attributes:
        growth_rate: channels each dense layer adds (k).
        block_config: dense layers per block.
        bn_size: bottleneck width multiplier (each layer's 1x1 conv has bn_size * k channels).
        stem: "7x7" (one 7x7 / 2 conv) or "deep" (timm's three 3x3 convs, the first stride 2).
        bn_epsilon: BatchNorm epsilon (torch's 1e-5; keras.applications' DenseNets use 1.001e-5).
        remat: gradient checkpointing of every dense layer (`DenseNetLayer`); a constructor argument,
            False in every row. It changes no weight and no output, only what training stores.
    """

    growth_rate: int
    block_config: Tuple[int, ...]
    bn_size: int = 4
    stem: str = "7x7"
    bn_epsilon: float = 1e-5
    remat_unit = "dense layer"

    classifier_name = "classifier"
    dropout_name = "head_drop"

    def __post_init__(self):
        if self.stem not in STEMS:
            raise ValueError(f"{self.name}: `stem` must be one of {STEMS}; received {self.stem!r}.")
        if not self.block_config or not all(isinstance(n, int) and n > 0 for n in self.block_config):
            raise ValueError(f"{self.name}: `block_config` must be positive layer counts; received "
                             f"{self.block_config!r}.")

    @property
    def output_stride(self):
        return 2 ** (len(self.block_config) + 1)

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def feature_map_size(self, size, stride):
        """The reference's arithmetic: the stride-2 stem conv and pool0 (3x3 / 2, padding 1) round up,
        ceil(n / 2) each; the transitions' 2x2 / 2 average pools round down."""
        size = -(-size // 2)
        if stride >= 4:
            size = -(-size // 2)
        for _ in range(stride.bit_length() - 3):  # one transition per further halving
            size //= 2
        return size

    def _num_layers(self):
        return sum(self.block_config)

    def summary(self) -> str:
        stem = "deep stem (three 3x3 convs)" if self.stem == "deep" else "7x7 stem conv"
        blocks = "-".join(map(str, self.block_config))
        return (f"{stem}, {len(self.block_config)} dense blocks of {blocks} bottleneck layers (growth rate "
                f"{self.growth_rate}, bottleneck {self.bn_size * self.growth_rate}), transitions halving the "
                f"channels with 2x2 average pools, BN epsilon {self.bn_epsilon:g}; no residual blocks: "
                "`drop_path_rate` has no effect")

    def code_path(self) -> tuple:
        # The deep stem is built from the 7x7 stem's layer types (ZeroPadding2D, Conv2D, BN, ReLU) and
        # DenseNet264d's own parity test runs it forward, backward and reloaded; as a code path of its
        # own it would add the 72M-parameter row's .keras file round trip and training steps to the suite.
        return ("dense", self.remat)

    def block_kind(self) -> tuple:
        return ("dense",)

    def size_rank(self) -> tuple:
        # Compute grows with the layers and the square of the growth rate (121 < 169 < 201 < 161 < 264d).
        return (self.growth_rate ** 2 * self._num_layers(),)

    def num_blocks(self) -> int:
        return self._num_layers()
