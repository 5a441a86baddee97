"""Architecture specs: every model is one frozen row in a registry.

A row names the generic pieces the builder assembles (stem, block, attention, layout) and the
numbers that distinguish variants (depths, widths, cardinality, ...). Adding a variant means
adding one row with `register_model`; its constructor and docstring are generated from it.
"""

import dataclasses
import difflib
import fnmatch
import re
from typing import Optional, Tuple

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One registered architecture.

    Attributes:
        name: constructor name, e.g. "ResNeXt50_32x4d".
        family: family label used in docs and tables, e.g. "ResNeXt".
        block: key in `keras_resfamily.blocks.BLOCKS` ("basic", "bottleneck", ...).
        depths: residual blocks per stage.
        widths: per-stage "planes" (the bottleneck width before `base_width` scaling);
            the stage output is `widths[i] * expansion` of the block.
        strides: per-stage strides of the first block.
        cardinality: groups of the 3x3 convolution (ResNeXt).
        base_width: channels per group at `widths[i] == 64` (ResNeXt's "d").
        stem: key in `keras_resfamily.stems.STEMS`.
        stem_width: channels of the first stem convolutions.
        stem_pool: "max", "conv" (ResNet-RS stride-2 conv) or "none".
        avg_down: average-pool + 1x1 conv shortcut (ResNet-D) instead of strided 1x1 conv.
        attention: key in `keras_resfamily.attention.ATTENTION` applied inside each block, or None.
        attention_args: (key, value) pairs passed to the attention factory.
        block_args: (key, value) pairs passed to the block function (radix, scale, ...).
        layout: naming scheme of layers, key in `keras_resfamily.layouts.LAYOUTS`. Layer names
            mirror the reference implementation's module paths so weights map by name.
        reference: timm model name with identical computation, or None.
        paper: short citation.
        default_size: pretrained / nominal input resolution.
        min_size: smallest accepted spatial input size.
        num_classes: classes of the nominal classifier (1000 for ImageNet, 10 for CIFAR).
        mean, std: input normalisation of the reference weights (RGB in [0, 1]).
        paper_params_millions: parameter count published by the paper, in millions to the
            paper's precision (checked by the tests), for variants without a timm reference.
    """

    name: str
    family: str
    block: str
    depths: Tuple[int, ...]
    widths: Tuple[int, ...] = (64, 128, 256, 512)
    strides: Tuple[int, ...] = (1, 2, 2, 2)
    cardinality: int = 1
    base_width: int = 64
    stem: str = "conv7"
    stem_width: int = 64
    stem_pool: str = "max"
    avg_down: bool = False
    attention: Optional[str] = None
    attention_args: Tuple[Tuple[str, object], ...] = ()
    block_args: Tuple[Tuple[str, object], ...] = ()
    layout: str = "resnet"
    reference: Optional[str] = None
    paper: str = ""
    default_size: int = 224
    min_size: int = 32
    num_classes: int = 1000
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    paper_params_millions: Optional[float] = None

    def __post_init__(self):
        if len(self.depths) != len(self.widths) or len(self.depths) != len(self.strides):
            raise ValueError(
                f"{self.name}: depths, widths and strides must have the same length; "
                f"received depths={self.depths}, widths={self.widths}, strides={self.strides}"
            )

    @property
    def keras_name(self) -> str:
        """Default `name=` of the built keras.Model, e.g. "resnext50_32x4d"."""
        return self.name.lower()

    def summary(self) -> str:
        """One line describing the architecture, used in generated docstrings."""
        parts = [f"{self.block} blocks {list(self.depths)}"]
        if self.cardinality > 1:
            parts.append(f"cardinality {self.cardinality} x {self.base_width}d")
        elif self.base_width != 64:
            parts.append(f"base width {self.base_width}")
        parts.append(f"{self.stem} stem" + (" + avg-down shortcut" if self.avg_down else ""))
        if self.attention:
            parts.append(f"{self.attention} attention")
        return ", ".join(parts)


_REGISTRY: "dict[str, ModelSpec]" = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"Model {spec.name!r} is already registered.")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", spec.name):
        raise ValueError(f"Model name must be a Python identifier; received {spec.name!r}.")
    _REGISTRY[spec.name] = spec
    return spec


def _canonical(name: str) -> str:
    return name.lower().replace("-", "_")


def get_spec(name: str) -> ModelSpec:
    """Return the spec for a constructor name or a timm reference name (both case-insensitive)."""
    if isinstance(name, ModelSpec):
        return name
    if not isinstance(name, str):
        raise ValueError(f"Model name must be a string; received {name!r}.")
    key = _canonical(name)
    for spec in _REGISTRY.values():
        if key in (_canonical(spec.name), _canonical(spec.reference or spec.name)):
            return spec
    hint = ", ".join(_close_names(key))
    hint = f" Similar names: {hint}." if hint else ""
    raise ValueError(
        f"Unknown model name: {name!r}.{hint} Call keras_resfamily.list_models() "
        f"for all {len(_REGISTRY)} registered models."
    )


def _close_names(key: str, n: int = 6) -> "list[str]":
    """Constructor names whose own or timm name (torchvision uses the same) is closest to `key` (difflib)."""
    candidates = {}
    for spec in _REGISTRY.values():
        for alias in (spec.name, spec.reference):
            if alias:
                candidates.setdefault(_canonical(alias), spec.name)
    matches = difflib.get_close_matches(key, candidates, n=2 * n, cutoff=0.6)
    return list(dict.fromkeys(candidates[m] for m in matches))[:n]


def list_models(pattern: Optional[str] = None) -> "list[str]":
    """Registered constructor names, optionally filtered by a case-insensitive glob pattern."""
    names = list(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n.lower(), pattern.lower())]
    return names


def all_specs() -> "list[ModelSpec]":
    return list(_REGISTRY.values())
