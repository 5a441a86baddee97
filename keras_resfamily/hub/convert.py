"""Load a checkpoint into a model; cache the converted Keras weights beside it.

Checkpoints are timm's safetensors files, torchvision's `.pth` files, read by `torch_pickle`
(an allow-list unpickler that runs nothing and never imports torch), or keras.applications' `.h5` files
(arrays read with h5py); all are assigned by name.

The converted file's name holds a signature of the model's variables (paths, shapes, dtypes) and
the source's sha256, so a changed source or a different model variant never reuses a stale file.
Its own sha256 is recorded beside it (`.weights.h5.sha256`) when written and checked before every
load: a converted file that does not match is rebuilt from the verified source, never loaded.
"""

import glob
import hashlib
import json
import os
import sys

from keras_resfamily.convert import load_timm_state_dict, read_keras_h5, reference_name
from keras_resfamily.hub import cache
from keras_resfamily.hub.errors import CorruptWeightsError, download_command
from keras_resfamily.hub.sources import CONVERTED_SUFFIX, TORCH_SUFFIX, is_keras_h5
from keras_resfamily.hub.torch_pickle import load_torch_state_dict

CONVERTER_VERSION = 1  # bump when the conversion changes, to invalidate converted files
SUFFIX = CONVERTED_SUFFIX


def _is_torch(path) -> bool:
    return os.fspath(path).endswith(TORCH_SUFFIX)


def _corrupt(path, error, fix):
    """The error to raise for a checkpoint that did not parse; torch_pickle's kind (corrupt or
    unsafe) is kept."""
    if _is_torch(path):
        return type(error)(f"{path} is not a plain torch state_dict ({error}). {fix}")
    if is_keras_h5(path):
        return CorruptWeightsError(f"{path} is not a readable Keras weights .h5 file ({error}). {fix}")
    return CorruptWeightsError(f"{path} is not a valid safetensors file ({error}). {fix}")


def check_checkpoint(path):
    """Raise ValueError (the reason) unless `path` is a whole checkpoint (a .pth or .h5 is read whole)."""
    if _is_torch(path) or is_keras_h5(path):
        _read_state_dict(path)
    else:
        cache.check_safetensors(path)


def _read_state_dict(path):
    """name -> array; raises ValueError (the reason) when the file is not a whole checkpoint."""
    if _is_torch(path):
        return load_torch_state_dict(path)
    if is_keras_h5(path):
        return read_keras_h5(path)
    from safetensors.numpy import load_file

    cache.check_safetensors(path)  # safetensors' own error names no file
    return load_file(path)


def head_prefixes(spec) -> "tuple[str, ...]":
    """Checkpoint key prefixes of the layers a model has only with its top: the classifier and what
    the spec puts between the trunk and it (MobileNetV3's pooled head conv: timm's conv_head,
    torchvision's classifier.0). Found by building the spec's head alone on a small feature map."""
    import keras

    trunk_output = keras.Input((2, 2, 8))
    head = keras.Model(trunk_output, spec.build_head(trunk_output, {}, 2, None, 0.0))
    names = {layer.name for layer in head.layers if layer.weights}
    return tuple(reference_name(name) + "." for name in sorted(names))


def _assign(model, spec, state_dict, include_top):
    ignored = spec.unused_checkpoint_prefixes() + (() if include_top else head_prefixes(spec))
    load_timm_state_dict(model, state_dict, ignore_prefixes=ignored)


def load_safetensors(model, path, spec, include_top=True):
    """Assign a checkpoint (timm safetensors, or a torchvision .pth read without running its pickle)
    to `model` by name; without top, the classifier (and pre-logits head) is skipped."""
    try:
        state_dict = _read_state_dict(path)
    except ValueError as error:
        raise _corrupt(path, error, "Delete it and download or export it again.") from None
    _assign(model, spec, state_dict, include_top)


def variables_signature(model) -> str:
    description = [CONVERTER_VERSION] + [[v.path, list(v.shape), str(v.dtype)] for v in model.weights]
    return hashlib.sha256(json.dumps(description).encode()).hexdigest()[:10]


def converted_path(source_file, spec, model, source_sha256) -> str:
    stem = f"{spec.keras_name}-{variables_signature(model)}"
    return os.path.join(os.path.dirname(source_file), f"{stem}-{source_sha256[:12]}{SUFFIX}")


def _warn(message):
    print(f"keras_resfamily: {message}", file=sys.stderr)


def _intact(target) -> bool:
    """`target` exists and has the sha256 recorded when it was written."""
    recorded = cache.recorded_sha256(target)
    return recorded is not None and os.path.exists(target) and cache.sha256_of(target) == recorded


def _save_converted(model, target):
    """Write atomically (temp + rename, then its hash) under the lock, unless another process already
    wrote an intact one; drop converted files of older sources of this variant."""
    with cache.file_lock(target):
        if not _intact(target):
            tmp = target[: -len(SUFFIX)] + f".tmp{os.getpid()}{SUFFIX}"  # Keras wants the suffix
            try:
                model.save_weights(tmp)
                sha256 = cache.sha256_of(tmp)
                os.replace(tmp, target)
                cache.record_sha256(target, sha256)  # a crash before this leaves no record: rebuilt
            finally:
                cache.remove_quietly(tmp)
        prefix = os.path.basename(target).rsplit("-", 1)[0]
        for stale in glob.glob(os.path.join(os.path.dirname(target), f"{glob.escape(prefix)}-*{SUFFIX}")):
            if stale != target and ".tmp" not in os.path.basename(stale):
                cache.forget(stale)
                cache.remove_quietly(stale + ".lock")


def _forget_corrupt_source(source_file) -> bool:
    """Stop trusting a cached source that does not parse, so the next call downloads it again.
    False when it could not be removed (e.g. a read-only cache)."""
    try:
        with cache.file_lock(source_file):
            try:
                check_checkpoint(source_file)
            except ValueError:  # still broken (not replaced meanwhile by another process)
                cache.forget(source_file)
        return True
    except OSError:
        return False


def load_converted(model, spec, source_file, source_sha256, include_top=True, command=None) -> str:
    """Load `source_file` into `model` through the converted-weights cache; returns the converted path.

    `command`: the CLI command that downloads the source, for error messages.
    """
    target = converted_path(source_file, spec, model, source_sha256)
    if _intact(target):
        try:
            model.load_weights(target)
            return target
        except (OSError, ValueError) as error:  # written by an incompatible version: rebuild it
            _warn(f"converted weights {target} are unreadable ({error}); converting again.")
            cache.forget(target)
    elif os.path.exists(target):
        _warn(f"converted weights {target} do not match their recorded sha256 (damaged, or written without "
              "one); not loading them, converting the verified source again.")
    command = command or download_command()
    try:
        state_dict = _read_state_dict(source_file)
    except ValueError as error:  # e.g. recorded as verified by an older version that trusted any bytes
        fix = (f"It was removed from the cache; run `{command}` (or load the weights again) to download it "
               "again." if _forget_corrupt_source(source_file) else f"Delete it and run `{command}`.")
        raise _corrupt(source_file, error, fix) from None
    _assign(model, spec, state_dict, include_top)
    try:
        _save_converted(model, target)
    except OSError as error:  # e.g. a read-only cache: the model is loaded, only the shortcut is lost
        _warn(f"could not cache converted weights at {target}: {error}")
    return target
