"""The registry of every family: each model is one frozen spec row.

A family is one spec type (a frozen dataclass deriving from `ArchSpec`) whose `build_trunk` is that
family's builder, plus its rows; the families live in `keras_resfamily/families/`, one folder each.
What every model shares (inputs, argument checks, the head, weights) is in `builder.py`, which knows
no family. Adding a variant means adding one row with `register_model`; its constructor and
docstring are generated from it.
"""

import dataclasses
import difflib
import fnmatch
import re
from typing import Optional, Tuple

import keras

from keras_resfamily import validation

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)



def pytorch_halved(size: int) -> int:
    """Output size of a PyTorch 3x3 stride-2 conv or pool with padding 1: floor((size + 2 - 3) / 2) + 1."""
    return (size - 1) // 2 + 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArchSpec:
    """What every registered architecture has, whatever its family.

    Attributes:
        name: constructor name, e.g. "ResNeXt50_32x4d".
        family: family label used in docs and tables, e.g. "ResNeXt".
        reference: name of the reference model with identical computation (timm, or torchvision or
            keras.applications where `reference_source` says so), or None.
        reference_source: "timm", "torchvision" or "keras.applications": where `reference` is defined.
        paper: short citation.
        default_size: pretrained / nominal input resolution.
        min_size: smallest accepted spatial input size.
        num_classes: classes of the nominal classifier (1000 for ImageNet, 10 for CIFAR).
        mean, std: input normalisation of the reference weights (RGB in [0, 1]).
        paper_params_millions: parameter count published by the paper, in millions to the
            paper's precision (checked by the tests), for variants without a reference.
        reference_arguments: keyword arguments of the reference's constructor that make it compute
            what this row computes, e.g. (("aux_logits", False),) (the parity tests build it so).
        note: a sentence for the constructor's docstring, e.g. where keras.applications' model of the same
            name is another network.
        min_train_size: the smallest input on which training-mode batch statistics stay usable, where
            larger than `min_size`: unpadded trunks shrink a `min_size` input to a 1x1 map, whose
            per-batch BN statistics blow gradients up (timm's inception_v3 at 75x91: |grad| ~1e7).
    """

    name: str
    family: str
    reference: Optional[str] = None
    reference_source: str = "timm"
    paper: str = ""
    default_size: int = 224
    min_size: int = 32
    num_classes: int = 1000
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    paper_params_millions: Optional[float] = None
    reference_arguments: Tuple[Tuple[str, object], ...] = ()
    note: str = ""
    min_train_size: Optional[int] = None

    @property
    def reference_key(self) -> Optional[str]:
        """The reference qualified by its source where it is not timm ("torchvision.mobilenet_v2",
        "keras.applications.ResNet50V2"): the key of its published weights and an accepted `create_model` name."""
        if self.reference is None or self.reference_source == "timm":
            return self.reference
        return f"{self.reference_source}.{self.reference}"

    @property
    def reference_label(self) -> str:
        """"timm resnet50", "torchvision mobilenet_v2" or "no reference", for people."""
        return f"{self.reference_source} {self.reference}" if self.reference else "no reference"

    @property
    def keras_name(self) -> str:
        """Default `name=` of the built keras.Model, e.g. "resnext50_32x4d"."""
        return self.name.lower()

    # What each family defines ----------------------------------------------------------------
    # Layer names of the shared head: the reference's module paths ('.' written as '-').
    classifier_name = "fc"
    dropout_name = "drop"
    # The reduction of the trunk's last map on ImageNet-size rows (the deepest "strideN" feature).
    output_stride = 32

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        raise NotImplementedError

    def build_trunk(self, x, drop_path_rate):
        """The family's builder: image tensor -> (last feature map, {"strideN": feature map})."""
        raise NotImplementedError

    def feature_map_size(self, size: int, stride: int) -> int:
        """Height (width) of the "stride{stride}" feature map on inputs `size` pixels high (wide):
        ceil(size / stride), what TF 'same' padding gives. Families with unpadded convolutions or
        ceil-mode pools override it with the reference's arithmetic."""
        return -(-size // stride)

    def variant_arguments(self) -> "dict[str, tuple[object, str]]":
        """keras.applications' own extra constructor arguments of this row: name -> (default, one-line
        description), e.g. MobileNet's `alpha`; most rows have none."""
        return {}

    def resolve_variant(self, weights, include_top, **arguments):
        """(spec, build_model overrides) that `arguments` (a subset of `variant_arguments()`) select,
        e.g. the sibling row of another width; raises ValueError for combinations that do not exist
        (`include_top` is False for headless and features_only models)."""
        return self, {}

    def build_pre_logits(self, x):
        """Layers between the global pool and the classifier (most families: none)."""
        return x

    def build_head(self, x, features, classes, classifier_activation, dropout_rate):
        """The top on the trunk's output `x`: global average pool (float32: a float16 mean over a large
        map can overflow), `build_pre_logits`, dropout, then the classifier in float32 (logits and
        probabilities stay float32 under mixed precision). A family with another top (a convolutional
        classifier, auxiliary classifiers on `features`) overrides it; it may return a list of outputs."""
        x = keras.layers.GlobalAveragePooling2D(name="global_pool", dtype="float32")(x)
        x = self.build_pre_logits(x)
        if dropout_rate:
            x = keras.layers.Dropout(dropout_rate, name=self.dropout_name)(x)
        return keras.layers.Dense(classes, activation=classifier_activation, name=self.classifier_name,
                                  dtype="float32")(x)

    def unused_checkpoint_prefixes(self) -> "tuple[str, ...]":
        """Reference checkpoint keys this row never loads (e.g. auxiliary classifiers it was built without)."""
        return ()

    def code_path(self) -> tuple:
        """Hashable description of the code this row runs: the tests run the costly checks on the
        smallest row of each distinct code path."""
        raise NotImplementedError

    def block_kind(self) -> tuple:
        """The kind of block this row stacks (costly precision checks run once per kind)."""
        raise NotImplementedError

    def size_rank(self) -> tuple:
        """Orders rows of one family by cost (smaller first)."""
        raise NotImplementedError

    def num_blocks(self) -> int:
        """Blocks on the main path (the deepest model is tested at Python's default recursion limit)."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True, kw_only=True)
class RematArchSpec(ArchSpec):
    """A family whose blocks can be rematerialised (gradient checkpointing): the constructors' `remat`.

    Attributes:
        remat: recompute each `remat_unit` in the backward pass instead of storing its activations
            (registered rows: False; the constructors' `remat=True` selects it).
    """

    remat: bool = False
    remat_unit = "block"  # what one recomputed unit is, for the argument's description

    def variant_arguments(self):
        return {"remat": (self.remat, (
            f"gradient checkpointing: training keeps only each {self.remat_unit}'s inputs and recomputes the "
            "rest in the backward pass (`keras.remat`): much less activation memory for a slower step; the "
            "same variables, outputs and gradients, BN moving statistics updated once per step. Needs "
            "Keras 3.9+ and the TensorFlow, JAX or torch backend."))}

    def resolve_variant(self, weights, include_top, **arguments):
        remat = arguments.get("remat", self.remat)
        validation.check_remat(remat)
        return (self if remat == self.remat else dataclasses.replace(self, remat=remat)), {}


_REGISTRY: "dict[str, ArchSpec]" = {}


def register_model(spec: ArchSpec) -> ArchSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"Model {spec.name!r} is already registered.")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", spec.name):
        raise ValueError(f"Model name must be a Python identifier; received {spec.name!r}.")
    _REGISTRY[spec.name] = spec
    return spec


def _canonical(name: str) -> str:
    return name.lower().replace("-", "_")


def _aliases(spec, priority):
    """Names of `spec` at lookup `priority`: 0 its own and qualified reference names, 1 its bare
    reference name (timm's before torchvision's, where both use one name, e.g. efficientnet_b0)."""
    if priority == 0:
        return [spec.name] + ([spec.reference_key] if spec.reference else [])
    if spec.reference and priority == (1 if spec.reference_source == "timm" else 2):
        return [spec.reference]
    return []


def get_spec(name: str) -> ArchSpec:
    """The spec for a constructor name or a reference name (case-insensitive): a timm name, or a
    torchvision name (bare where timm has no model of that name, else "torchvision.NAME")."""
    if isinstance(name, ArchSpec):
        return name
    if not isinstance(name, str):
        raise ValueError(f"Model name must be a string; received {name!r}.")
    key = _canonical(name)
    for priority in (0, 1, 2):
        for spec in _REGISTRY.values():
            if key in map(_canonical, _aliases(spec, priority)):
                return spec
    hint = ", ".join(_close_names(key))
    hint = f" Similar names: {hint}." if hint else ""
    raise ValueError(
        f"Unknown model name: {name!r}.{hint} Call keras_resfamily.list_models() "
        f"for all {len(_REGISTRY)} registered models."
    )


def _close_names(key: str, n: int = 6) -> "list[str]":
    """Constructor names whose own or reference name is closest to `key` (difflib)."""
    candidates = {}
    for priority in (0, 1, 2):
        for spec in _REGISTRY.values():
            for alias in _aliases(spec, priority):
                candidates.setdefault(_canonical(alias), spec.name)
    matches = difflib.get_close_matches(key, candidates, n=2 * n, cutoff=0.6)
    return list(dict.fromkeys(candidates[m] for m in matches))[:n]


def list_models(pattern: Optional[str] = None) -> "list[str]":
    """Registered constructor names, optionally filtered by a case-insensitive glob pattern."""
    names = list(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n.lower(), pattern.lower())]
    return names


def all_specs() -> "list[ArchSpec]":
    return list(_REGISTRY.values())
