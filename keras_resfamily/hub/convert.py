"""Load a timm safetensors file into a model; cache the converted Keras weights beside it.

The converted file's name holds a signature of the model's variables (paths, shapes, dtypes) and
the source's sha256, so a changed source or a different model variant never reuses a stale file.
"""

import glob
import hashlib
import json
import os
import sys

from keras_resfamily.convert import load_timm_state_dict, reference_name
from keras_resfamily.hub import cache
from keras_resfamily.layouts import LAYOUTS

CONVERTER_VERSION = 1  # bump when the conversion changes, to invalidate converted files
SUFFIX = ".weights.h5"


def load_safetensors(model, path, spec, include_top=True):
    """Assign a timm safetensors checkpoint to `model` by name (the classifier skipped without top)."""
    from safetensors.numpy import load_file

    ignore = () if include_top else (reference_name(LAYOUTS[spec.layout].classifier) + ".",)
    load_timm_state_dict(model, load_file(path), ignore_prefixes=ignore)


def variables_signature(model) -> str:
    description = [CONVERTER_VERSION] + [[v.path, list(v.shape), str(v.dtype)] for v in model.weights]
    return hashlib.sha256(json.dumps(description).encode()).hexdigest()[:10]


def converted_path(source_file, spec, model, source_sha256) -> str:
    stem = f"{spec.keras_name}-{variables_signature(model)}"
    return os.path.join(os.path.dirname(source_file), f"{stem}-{source_sha256[:12]}{SUFFIX}")


def _warn(message):
    print(f"keras_resfamily: {message}", file=sys.stderr)


def _save_converted(model, target):
    """Write atomically under the lock; drop converted files of older sources of this variant."""
    with cache.file_lock(target):
        if not os.path.exists(target):
            tmp = target[: -len(SUFFIX)] + f".tmp{os.getpid()}{SUFFIX}"  # Keras wants the suffix
            try:
                model.save_weights(tmp)
                os.replace(tmp, target)
            finally:
                cache.remove_quietly(tmp)
        prefix = os.path.basename(target).rsplit("-", 1)[0]
        for stale in glob.glob(os.path.join(os.path.dirname(target), f"{glob.escape(prefix)}-*{SUFFIX}")):
            if stale != target and ".tmp" not in os.path.basename(stale):
                cache.remove_quietly(stale)
                cache.remove_quietly(stale + ".lock")


def load_converted(model, spec, source_file, source_sha256, include_top=True) -> str:
    """Load `source_file` into `model` through the converted-weights cache; returns the converted path."""
    target = converted_path(source_file, spec, model, source_sha256)
    if os.path.exists(target):
        try:
            model.load_weights(target)
            return target
        except (OSError, ValueError) as error:  # damaged by hand: rebuild it from the source
            _warn(f"converted weights {target} are unreadable ({error}); converting again.")
            cache.remove_quietly(target)
    load_safetensors(model, source_file, spec, include_top)
    try:
        _save_converted(model, target)
    except OSError as error:  # e.g. a read-only cache: the model is loaded, only the shortcut is lost
        _warn(f"could not cache converted weights at {target}: {error}")
    return target
