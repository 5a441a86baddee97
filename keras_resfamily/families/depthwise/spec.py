"""The depthwise family's spec type: a block-definition table plus width / depth multipliers."""

import dataclasses
from typing import Tuple

from keras_resfamily.families.depthwise import arch as arch_table
from keras_resfamily.families.depthwise import variants
from keras_resfamily.families.depthwise.builder import build_pre_logits, build_trunk
from keras_resfamily.families.depthwise.naming import NAMINGS
from keras_resfamily.specs import ArchSpec

HEADS = ("conv_bn", "pre_logits", "none")
HEAD_SCALINGS = ("scaled", "at_least", "fixed")
PADDINGS = ("tf", "symmetric")
SE_KINDS = ("efficientnet", "mobilenetv3")
DEPTH_TRUNCS = ("ceil", "round")
KIND_LABELS = {"ds": "depthwise-separable", "dsa": "depthwise-separable", "ir": "inverted residual",
               "cn": "conv"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class DepthwiseSpec(ArchSpec):
    """A depthwise-separable / inverted-residual network (MobileNet V1-V3, EfficientNet, MixNet).

    Attributes:
        arch: one tuple per stage of block-definition strings (notation: `arch.py`).
        width: channel multiplier (every scaled width is rounded by `arch.round_channels`).
        depth: repeat multiplier per stage (`arch.scale_depth`), truncated by `depth_trunc`
            ("ceil": EfficientNet, "round": MixNet).
        fix_first_last: the first and last stages keep their repeats (MobileNetV2 110d / 120d).
        stem_width: channels of the stride-2 3x3 stem conv; scaled unless `fix_stem`.
        head: "conv_bn" (1x1 conv + BN + act before the pool: EfficientNet, MobileNetV2, MixNet),
            "pre_logits" (1x1 conv with bias + act after the pool: MobileNetV3) or "none".
        head_width, head_scaling: head channels; "scaled" (round(head * width)), "at_least"
            (max(head, round(head * width))) or "fixed".
        act: default activation ("relu", "relu6", "hard_swish", "swish"); blocks may override it.
        se: squeeze-excite rule: "efficientnet" (width = round(block input * ratio), the block's
            activation, sigmoid gate) or "mobilenetv3" (width = make_divisible(expanded * ratio, 8),
            ReLU, hard-sigmoid gate).
        padding: "tf" (TensorFlow SAME, timm's `tf_` ports) or "symmetric" (PyTorch).
        bn_epsilon: BatchNorm epsilon (1e-3 for the TF ports, 1e-5 otherwise).
        channel_divisor: channel rounding multiple.
        naming: layer naming table (`naming.NAMINGS`).
        recipe_dropout: the reference's training dropout before the classifier (pass it as
            `dropout_rate=` to train as the paper did; it changes no weights).
        dw_multiplier: channels per input channel of the depthwise convs (keras' MobileNet
            `depth_multiplier`).
        keras_arguments: the keras.applications constructor arguments this row equals, e.g.
            (("alpha", 0.75), ("minimalistic", False)); its constructor accepts them (`variants.py`).
    """

    arch: Tuple[Tuple[str, ...], ...]
    width: float = 1.0
    depth: float = 1.0
    depth_trunc: str = "ceil"
    fix_first_last: bool = False
    stem_width: int = 32
    fix_stem: bool = False
    head: str = "conv_bn"
    head_width: int = 1280
    head_scaling: str = "scaled"
    act: str = "relu"
    se: str = "efficientnet"
    padding: str = "symmetric"
    bn_epsilon: float = 1e-5
    channel_divisor: int = 8
    naming: str = "timm"
    recipe_dropout: float = 0.0
    dw_multiplier: int = 1
    keras_arguments: Tuple[Tuple[str, object], ...] = ()

    def __post_init__(self):
        for value, allowed, what in ((self.head, HEADS, "head"), (self.head_scaling, HEAD_SCALINGS, "head_scaling"),
                                     (self.padding, PADDINGS, "padding"), (self.se, SE_KINDS, "se"),
                                     (self.depth_trunc, DEPTH_TRUNCS, "depth_trunc"),
                                     (self.act, arch_table.ACTIVATIONS, "act"),
                                     (self.naming, tuple(NAMINGS), "naming")):
            if value not in allowed:
                raise ValueError(f"{self.name}: `{what}` must be one of {allowed}; received {what}={value!r}.")
        if not self.arch or not all(isinstance(stage, tuple) and stage for stage in self.arch):
            raise ValueError(f"{self.name}: `arch` must be a non-empty tuple of non-empty stage tuples; "
                             f"received arch={self.arch!r}.")
        for stage in self.arch:
            for entry in stage:
                arch_table.parse_block(entry)  # a bad definition fails at registration
        if self.dw_multiplier != 1 and any(block.mixed for block in self.plan().blocks):
            raise ValueError(f"{self.name}: mixed kernels take no depthwise multiplier; received "
                             f"dw_multiplier={self.dw_multiplier}.")

    # What the shared head needs ------------------------------------------------------------
    @property
    def classifier_name(self) -> str:
        return NAMINGS[self.naming].classifier

    @property
    def dropout_name(self) -> str:
        return NAMINGS[self.naming].dropout

    def plan(self):
        """The resolved blocks (cached): see `arch.plan`."""
        return arch_table.plan(self)

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def build_pre_logits(self, x):
        return build_pre_logits(x, self)

    def variant_arguments(self):
        return variants.variant_arguments(self)

    def resolve_variant(self, weights, include_top, **arguments):
        return variants.resolve(self, weights, **arguments)

    # Descriptions ---------------------------------------------------------------------------
    def _kinds(self):
        return tuple(sorted({block.kind for block in self.plan().blocks}))

    def _se_ratios(self):
        return sorted({arch_table.parse_block(e).se for stage in self.arch for e in stage} - {0.0})

    def _activations(self):
        plan = self.plan()
        acts = {block.act for block in plan.blocks} | {self.act}
        acts |= {block.se_act for block in plan.blocks if block.se_channels}
        return tuple(sorted(acts))

    def _mixed(self):
        return any(block.mixed for block in self.plan().blocks)

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        kinds = self._kinds()
        label = "inverted residual" if "ir" in kinds else KIND_LABELS[kinds[0]]
        parts = [f"{label} blocks {list(self.plan().stage_depths)}", f"width {self.width}", f"depth {self.depth}"]
        ratios = self._se_ratios()
        if ratios:
            gate = ", hard-sigmoid gate" if self.se == "mobilenetv3" else ""
            parts.append("SE " + "/".join(f"{r:g}" for r in ratios) + gate)
        parts.append("/".join(self._activations()))
        if self._mixed():
            parts.append("mixed depthwise kernels")
        if self.padding == "tf":
            parts.append("TF 'same' padding")
        return ", ".join(parts)

    def code_path(self) -> tuple:
        # The naming table is left out: it changes layer names, not the computation.
        se_kind = self.se if self._se_ratios() else None
        return (self._kinds(), se_kind, self._activations(), self.padding, self._mixed(), self.head)

    def block_kind(self) -> tuple:
        return (self._kinds(), self.se if self._se_ratios() else None, self._mixed())

    def size_rank(self) -> tuple:
        return (self.num_blocks(), self.width)

    def num_blocks(self) -> int:
        return len(self.plan().blocks)
