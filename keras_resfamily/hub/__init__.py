"""Pretrained weights: resolve the `weights=` argument of the constructors, fetch and load it.

`weights=` accepts None, "imagenet" (the model's default published checkpoint), a pretrained tag
("a1_in1k", or the full timm name "resnet50.a1_in1k"), "hf://owner/repo[@revision][/file]",
an https URL of a .safetensors file, or a local `.weights.h5` / `.safetensors` path. Remote files
are downloaded once into the cache, verified by sha256, converted once and loaded by name.

Published `.pth` files (torchvision's, and timm's legacy_xception release) are served from their
registry entries only: checked against the sha256 prefix in their file name, parsed by an allow-list
unpickler that runs nothing (`torch_pickle`), then recorded by full sha256. A `.pth` named by the user is never read.
"""

import os

from keras_resfamily.hub import registry, sources
from keras_resfamily.hub.cache import cache_home, is_offline
from keras_resfamily.hub.convert import load_converted, load_safetensors
from keras_resfamily.hub.errors import (
    ChecksumMismatchError, CorruptWeightsError, WeightsDownloadError, WeightsNotCachedError, download_command,
)
from keras_resfamily.hub.fetch import fetch_file
from keras_resfamily.hub.registry import WeightsEntry
from keras_resfamily.hub.torch_pickle import UnsafeCheckpointError
from keras_resfamily.specs import get_spec

LOCAL_SUFFIXES = (".weights.h5", ".safetensors")

__all__ = [
    "ChecksumMismatchError", "CorruptWeightsError", "UnsafeCheckpointError", "WeightsDownloadError",
    "WeightsEntry", "WeightsNotCachedError", "cache_home", "download_command", "download_weights", "fetch_file",
    "get_weights_entry",
    "is_offline", "is_pretrained", "list_weights", "load_weights",
]


def _is_local_file(weights):
    return isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)


def _invalid(weights, spec):
    tags = ", ".join(repr(e.tag) for e in registry.entries_for(spec))
    tag_text = f"a pretrained tag of {spec.name} ({tags}), " if tags else ""
    return ValueError(
        "The `weights` argument should be either `None` (random initialization), 'imagenet' "
        f"(pre-training on ImageNet), {tag_text}'hf://owner/repo[@revision][/file.safetensors]', or the "
        f"path to the weights file to be loaded ({' or '.join(LOCAL_SUFFIXES)}). Received: weights={weights!r}"
    )


def is_pretrained(weights, spec):
    """Validate `weights=`; True when it names a published (ImageNet-1k) checkpoint of `spec`.

    hf://, URLs and local files return False: their classes are whatever the checkpoint holds, and a
    mismatch is reported by name when loading.
    """
    if weights is None:
        return False
    if weights == registry.IMAGENET_ALIAS and not registry.entries_for(spec):
        raise ValueError(f"weights='imagenet' is not available: {registry.available_description(spec)}")
    if registry.find_entry(spec, weights) is not None:  # before files: a file named 'imagenet' is no tag
        return True
    if _is_local_file(weights):
        if str(weights).endswith(LOCAL_SUFFIXES):
            return False
        raise ValueError(
            f"Weights files must be {' or '.join(LOCAL_SUFFIXES)} (pickled checkpoints such as .pth are "
            f"never read). Received: weights={weights!r}"
        )
    if sources.is_remote_reference(weights):
        sources.parse_remote(weights)  # raises on a malformed reference
        return False
    if isinstance(weights, (str, os.PathLike)) and str(weights).endswith(LOCAL_SUFFIXES):
        raise ValueError(f"The weights file does not exist. Received: weights={str(weights)!r}")
    raise _invalid(weights, spec)


def get_weights_entry(model_name, weights="imagenet") -> WeightsEntry:
    """The registry entry `weights` ("imagenet" or a tag) names for a model (constructor or timm name)."""
    spec = get_spec(model_name)
    entry = registry.find_entry(spec, weights)
    if entry is None:
        raise ValueError(f"No pretrained weights {weights!r} for {spec.name}. {registry.available_description(spec)}")
    return entry


def list_weights(model_name) -> "list[dict]":
    """The published checkpoints of a model, the default ('imagenet') first.

    Each item: tag, default (bool), source (hf://repo@revision/file or URL), sha256 (None where not
    pinned), sha256_prefix (torchvision .pth: the prefix published in the file name, else None), md5
    (keras.applications .h5: the md5 keras publishes, else None),
    input_size (H, W, C), crop_pct, interpolation, mean, std, num_classes, license, and the published
    ImageNet-1k top1 / top5 (%) (timm's or torchvision's) at eval_size (None where none is listed).
    """
    spec = get_spec(model_name)
    return [
        dict(tag=e.tag, default=e.is_default, source=e.source.describe(), sha256=e.source.sha256,
             sha256_prefix=e.source.sha256_prefix, md5=e.source.md5,
             input_size=(e.input_size[1], e.input_size[2], e.input_size[0]), crop_pct=e.crop_pct,
             interpolation=e.interpolation, mean=e.mean, std=e.std, num_classes=e.num_classes, license=e.license,
             top1=e.top1, top5=e.top5, eval_size=e.eval_size)
        for e in registry.entries_for(spec)
    ]


def describe_weights(row) -> str:
    """One `list_weights` row as a line: default mark, tag, size, crop, interpolation, top-1, license, source.

    Where no full hash is pinned, the sha256 prefix torchvision publishes or the md5 keras.applications publishes
    (what the download is checked against) ends the line.
    """
    size = "x".join(str(d) for d in row["input_size"][:2])
    top1 = f"top-1 {row['top1']:.2f} at {row['eval_size']}" if row.get("top1") else "top-1 not published"
    pinned = "" if row["sha256"] else (f"  sha256 {row['sha256_prefix']}..." if row["sha256_prefix"] else
                                       f"  md5 {row['md5']}" if row.get("md5") else "")
    return (f" {'*' if row['default'] else ' '} {row['tag']:<28} {size:>7}  crop {round(row['crop_pct'], 4):<6} "
            f"{row['interpolation']:<8} {top1:<22} {row['license'] or '?':<14} {row['source']}{pinned}")


def _download_command(spec, weights):
    """The CLI command that downloads this checkpoint, for error messages."""
    text = weights if sources.is_remote_reference(weights) else get_weights_entry(spec, weights).tag
    return download_command(spec.name, text)


def download_weights(model_name, weights="imagenet", show_progress=None):
    """Download (or find in the cache) and verify a checkpoint; returns (path, sha256)."""
    spec = get_spec(model_name)
    command = _download_command(spec, weights)
    if sources.is_remote_reference(weights):
        return fetch_file(sources.parse_remote(weights), show_progress, command=command)
    return fetch_file(get_weights_entry(spec, weights).source, show_progress, command=command)


def load_weights(model, spec, weights, include_top=True):
    """Load `weights` (see `is_pretrained`) into a freshly built `model` of `spec`."""
    spec = get_spec(spec)
    if registry.find_entry(spec, weights) is None and _is_local_file(weights):
        path = str(weights)
        if path.endswith(".weights.h5"):
            model.load_weights(path)
        else:
            load_safetensors(model, path, spec, include_top)
        return
    if not sources.is_remote_reference(weights):
        entry = get_weights_entry(spec, weights)
        if include_top and entry.num_classes == 0:
            raise ValueError(
                f"The {spec.name} weights {entry.tag!r} have no classifier (backbone only); "
                "use include_top=False with them."
            )
    path, sha256 = download_weights(spec, weights)
    load_converted(model, spec, path, sha256, include_top, command=_download_command(spec, weights))
