"""The inception family's spec type: a layout (the reference's modules in order) plus the head and
input options of its reference (auxiliary classifiers, GoogLeNet's input transform)."""

import dataclasses
from typing import Optional

from keras_resfamily.families.inception import aux, ops
from keras_resfamily.families.inception.builder import build_trunk
from keras_resfamily.families.inception.layouts import Layout
from keras_resfamily.specs import ArchSpec

HALF = (0.5, 0.5, 0.5)


def _walk(op):
    """`op` and every op inside it."""
    yield op
    branches = getattr(op, "branches", ()) + ((op.steps,) if isinstance(op, ops.Fork) else ())
    for steps in branches:
        for _, inner in steps:
            yield from _walk(inner)


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class InceptionSpec(ArchSpec):
    """An Inception net (GoogLeNet, Inception-V3, Inception-V4, Inception-ResNet-V2).

    Attributes:
        layout: the trunk, module by module under the reference's names (`layouts.py`).
        bn_epsilon: BatchNorm epsilon (1e-3 in all four references).
        classifier, head_dropout: reference names of the classifier and of the dropout before it.
        aux_logits: the auxiliary classifiers of `layout.aux_inputs` are built; the model's outputs are
            then [logits, aux...] in the reference's order (registered rows: False; the constructors'
            `aux_logits=True` selects it).
        aux_min_size: the smallest input the auxiliary heads accept, where larger than `min_size`.
        transform_input: torchvision GoogLeNet's input transform (ImageNet-normalised RGB ->
            (x - 0.5) / 0.5); None for rows whose reference has no such option.
        note: what else a reader must know about the row, appended to its summary.
    """

    layout: Layout
    bn_epsilon: float = 1e-3
    classifier: str = "fc"
    head_dropout: str = "head_drop"
    aux_logits: bool = False
    aux_min_size: Optional[int] = None
    transform_input: Optional[bool] = None
    note: str = ""

    def __post_init__(self):
        if self.layout.aux_head not in ("",) + tuple(aux.AUX_HEADS):
            raise ValueError(f"{self.name}: unknown auxiliary head {self.layout.aux_head!r}.")
        if self.aux_logits and not self.layout.aux_inputs:
            raise ValueError(f"{self.name}: `aux_logits` needs a layout with auxiliary heads.")

    # What the shared builder needs ---------------------------------------------------------
    @property
    def classifier_name(self) -> str:
        return self.classifier

    @property
    def dropout_name(self) -> str:
        return self.head_dropout

    def build_trunk(self, x, drop_path_rate):
        return build_trunk(x, self, drop_path_rate)

    def build_head(self, x, features, classes, classifier_activation, dropout_rate):
        """The shared head; with `aux_logits`, [logits, aux...]: the auxiliary heads on their taps."""
        logits = super().build_head(x, features, classes, classifier_activation, dropout_rate)
        if not self.aux_logits:
            return logits
        head, ctx = aux.AUX_HEADS[self.layout.aux_head], ops.Context(bn_epsilon=self.bn_epsilon)
        return [logits] + [head(features[name], name, classes, classifier_activation, ctx)
                           for name, _ in self.layout.aux_inputs]

    def feature_map_size(self, size, stride):
        """The reference's arithmetic (unpadded convolutions and pools), module by module to the tap."""
        tap = dict(self.layout.features)[f"stride{stride}"]
        for name, op in self.layout.modules:
            size = ops.output_size(op, size)
            if name == tap:
                return size
        raise ValueError(f"{self.name}: no feature map at stride {stride}.")

    def unused_checkpoint_prefixes(self):
        """The reference checkpoints hold the auxiliary heads (torchvision's GoogLeNet and Inception-V3)."""
        return () if self.aux_logits else tuple(f"{name}." for name, _ in self.layout.aux_inputs)

    def variant_arguments(self):
        arguments = {}
        if self.layout.aux_inputs:
            names = ", ".join(name for name, _ in self.layout.aux_inputs)
            arguments["aux_logits"] = (self.aux_logits, (
                f"build the auxiliary classifiers the reference trains with ({names}): the model then "
                f"returns [logits, {names}] (the reference's order; with the main classifier's activation) "
                "in inference too, so predict with outputs[0]. Needs `include_top=True`"
                + (f" and inputs of at least {self.aux_min_size}x{self.aux_min_size}" if self.aux_min_size else "")
                + "."))
        if self.transform_input is not None:
            arguments["transform_input"] = (self.transform_input, (
                "torchvision's `transform_input`: re-normalise ImageNet-normalised RGB inputs to the "
                "(x - 0.5) / 0.5 its published weights were trained on, so they give their outputs on "
                "`preprocess_input`'s ImageNet normalisation; False: the model takes inputs normalised with "
                "mean = std = 0.5 itself. Inputs without 3 channels are never transformed."))
        return arguments

    def resolve_variant(self, weights, include_top, **arguments):
        for name, value in arguments.items():
            _check_bool(name, value)
        aux_logits = arguments.get("aux_logits", self.aux_logits)
        transform = arguments.get("transform_input", self.transform_input)
        if aux_logits and not include_top:
            raise ValueError("`aux_logits=True` adds auxiliary classifiers to the top, so it requires "
                             "`include_top=True` and `features_only=False`. Received: aux_logits=True without "
                             "a top (include_top=False or features_only=True)")
        if (aux_logits, transform) == (self.aux_logits, self.transform_input):
            return self, {}
        reference_arguments = dict(self.reference_arguments, aux_logits=aux_logits)
        changes = dict(aux_logits=aux_logits)
        if aux_logits and self.aux_min_size:
            changes["min_size"] = max(self.min_size, self.aux_min_size)
        if transform is not None:
            reference_arguments["transform_input"] = transform
            changes["transform_input"] = transform
            if not transform:  # the weights' own normalisation, which the transform would produce
                changes.update(mean=HALF, std=HALF)
        return dataclasses.replace(self, reference_arguments=tuple(reference_arguments.items()), **changes), {}

    # Descriptions ---------------------------------------------------------------------------
    def _ops(self):
        return [inner for _, op in self.layout.modules for inner in _walk(op)]

    def _blocks(self, kind):
        return [op for _, op in self.layout.modules if isinstance(op, kind)]

    def _pool_kinds(self):
        kinds = set()
        for op in self._ops():
            if isinstance(op, ops.MaxPool) and op.ceil_mode:
                kinds.add("ceil-mode max pools")
            if isinstance(op, ops.AvgPool):
                kinds.add("average pools counting the padded zeros" if op.count_include_pad
                          else "average pools over the pixels inside")
        return tuple(sorted(kinds))

    def summary(self) -> str:
        parts = []
        mixed, residual = self._blocks(ops.Mixed), self._blocks(ops.Residual)
        if mixed:
            parts.append(f"{len(mixed)} Inception blocks")
        if residual:
            scales = "/".join(dict.fromkeys(f"{op.scale:g}" for op in residual if op.relu))
            last = "; the last one unscaled and without ReLU" if not residual[-1].relu else ""
            parts.append(f"{len(residual)} Inception-ResNet blocks (residual scales {scales}{last})")
        parts += list(self._pool_kinds())
        parts.append(f"BN epsilon {self.bn_epsilon:g}")
        if self.transform_input:
            parts.append("input re-normalised to (x - 0.5) / 0.5 (torchvision's transform_input)")
        if not residual:
            parts.append("no residual blocks: `drop_path_rate` has no effect")
        if self.note:
            parts.append(self.note)
        return ", ".join(parts)

    def code_path(self) -> tuple:
        aux_head = self.layout.aux_head if self.aux_logits else None
        return (self.block_kind(), self._pool_kinds(), aux_head, self.transform_input)

    def block_kind(self) -> tuple:
        return tuple(sorted({type(op).__name__ for op in self._ops()}))

    def size_rank(self) -> tuple:
        return (self.num_blocks(),)

    def num_blocks(self) -> int:
        return len(self._blocks(ops.Mixed)) + len(self._blocks(ops.Residual))
