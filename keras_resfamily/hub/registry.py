"""The published weights of each model: entries per reference key, read from data/pretrained_weights.json.

The JSON is generated at dev time from timm's pretrained configs, torchvision's weights enums and
keras.applications' published files by `generate_registry.py`; the runtime never imports timm, torchvision or
torch. Lookup goes spec.reference_key (the timm name, "torchvision.<name>" or "keras.applications.<Name>") ->
entries.
"""

import dataclasses
import functools
import json
import os
from typing import Optional, Tuple

from keras_resfamily.hub.sources import Source

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
REGISTRY_FILE = os.path.join(DATA_DIR, "pretrained_weights.json")
# published ImageNet-1k validation results (timm's results-imagenet.csv, torchvision's weights meta),
# by "<reference key>.<tag>".
RESULTS_FILE = os.path.join(DATA_DIR, "reference_top1.json")
IMAGENET_ALIAS = "imagenet"


@dataclasses.dataclass(frozen=True)
class WeightsEntry:
    """One published checkpoint of a model and the preprocessing it was trained with."""

    reference: str  # reference key: timm architecture name, "torchvision.<name>" or "keras.applications.<Name>"
    tag: str  # timm pretrained tag ("a1_in1k"), torchvision weights name ("IMAGENET1K_V2") or keras' "imagenet"
    source: Source
    is_default: bool
    input_size: Tuple[int, int, int]  # (channels, height, width) as timm writes it
    crop_pct: float
    interpolation: str
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    num_classes: int  # 0: the checkpoint has no classifier (backbone only)
    license: Optional[str]
    classifier: str  # checkpoint key prefix of the classifier, e.g. "fc" or "head.fc"
    top1: Optional[float] = None  # published ImageNet-1k validation top-1 (%) (timm's or torchvision's)
    top5: Optional[float] = None
    eval_size: Optional[int] = None  # the image size of that evaluation

    @property
    def timm_name(self) -> str:
        return f"{self.reference}.{self.tag}"


def _entry(reference, default_tag, row, results) -> WeightsEntry:
    result = results.get(f"{reference}.{row['tag']}", {})
    source = Source(hf_repo=row["hf_repo"], filename=row["filename"], revision=row["revision"],
                    url=row["url"], sha256=row["sha256"], sha256_prefix=row.get("sha256_prefix"), md5=row.get("md5"))
    return WeightsEntry(
        reference=reference, tag=row["tag"], source=source, is_default=row["tag"] == default_tag,
        input_size=tuple(row["input_size"]), crop_pct=row["crop_pct"], interpolation=row["interpolation"],
        mean=tuple(row["mean"]), std=tuple(row["std"]), num_classes=row["num_classes"], license=row["license"],
        classifier=row["classifier"], top1=result.get("top1"), top5=result.get("top5"),
        eval_size=result.get("img_size"),
    )


@functools.lru_cache(maxsize=None)
def load_registry(path=REGISTRY_FILE) -> "dict[str, tuple[WeightsEntry, ...]]":
    """reference key -> its entries, the default first."""
    with open(path) as f:
        models = json.load(f)["models"]
    with open(RESULTS_FILE) as f:
        results = json.load(f)["results"]
    table = {}
    for reference, model in models.items():
        entries = [_entry(reference, model["default"], row, results) for row in model["weights"]]
        table[reference] = tuple(sorted(entries, key=lambda e: not e.is_default))
    return table


def entries_for(spec) -> "tuple[WeightsEntry, ...]":
    """All published weights of a spec (empty when its reference has none)."""
    if not spec.reference:
        return ()
    return load_registry().get(spec.reference_key, ())


def find_entry(spec, weights) -> Optional[WeightsEntry]:
    """The entry named by `weights` ("imagenet", a tag or "<timm name>.<tag>"), or None."""
    if not isinstance(weights, str):
        return None
    entries = entries_for(spec)
    if weights == IMAGENET_ALIAS:
        return entries[0] if entries else None
    for entry in entries:
        if weights in (entry.tag, entry.timm_name):
            return entry
    return None


def available_description(spec) -> str:
    """A sentence listing what `weights=` accepts for this model, for error messages."""
    entries = entries_for(spec)
    if not entries:
        why = (f"{spec.reference_source} publishes none for {spec.reference!r}" if spec.reference
               else "it has no reference model")
        return (f"{spec.name} has no published pretrained weights ({why}); use weights=None "
                "or a local .weights.h5 / .safetensors file.")
    tags = ", ".join(repr(e.tag) for e in entries)
    return f"Pretrained weights of {spec.name}: 'imagenet' (= {entries[0].tag!r}), {tags}."
