"""Input normalisation and ImageNet label decoding."""

import functools
import json
import os

import numpy as np
from keras import ops

from keras_resfamily.specs import IMAGENET_MEAN, IMAGENET_STD, get_spec

_CLASSES_FILE = os.path.join(os.path.dirname(__file__), "data", "imagenet_classes.json")


def normalization(model=None, weights=None):
    """(mean, std) for inputs scaled to [0, 1].

    From the pretrained config of `weights` (a tag such as "ra4_e3600_r224_in1k") when given, else
    from the model's spec (which equals its default "imagenet" weights), else ImageNet's.
    """
    if model is None:
        return IMAGENET_MEAN, IMAGENET_STD
    if weights not in (None, "imagenet"):
        from keras_resfamily.hub import get_weights_entry

        entry = get_weights_entry(model, weights)
        return entry.mean, entry.std
    spec = get_spec(model)
    return spec.mean, spec.std


def preprocess_input(x, model=None, weights=None):
    """Normalise RGB images with values in [0, 255] the way `model`'s weights expect.

    Args:
        x: numpy array or tensor, channels last, RGB, values in [0, 255].
        model: a registered model name (e.g. "ResNet50V2") or spec; None -> ImageNet mean/std.
        weights: pretrained tag whose config to use (default: the model's "imagenet" weights).

    Returns:
        float32 array / tensor `(x / 255 - mean) / std`. The input is never modified in place.
    """
    mean, std = normalization(model, weights)
    if isinstance(x, (np.ndarray, list, tuple, int, float)):
        x = np.asarray(x, dtype="float32")
        if x.shape[-1:] != (3,):
            raise ValueError(f"preprocess_input expects RGB images with 3 channels last. Received shape {x.shape}")
        return (x / 255.0 - np.asarray(mean, "float32")) / np.asarray(std, "float32")
    x = ops.cast(x, "float32")
    if x.shape[-1] != 3:
        raise ValueError(f"preprocess_input expects RGB images with 3 channels last. Received shape {tuple(x.shape)}")
    return (x / 255.0 - ops.convert_to_tensor(mean, "float32")) / ops.convert_to_tensor(std, "float32")


@functools.lru_cache(maxsize=1)
def imagenet_classes():
    """[(wordnet_id, name)] for the 1000 ImageNet-1k classes, in the standard index order."""
    with open(_CLASSES_FILE) as f:
        return [tuple(row) for row in json.load(f)]


def decode_predictions(preds, top=5):
    """Decode ImageNet-1k predictions: per sample a list of (class_id, class_name, score), best first.

    Same contract as `keras.applications.imagenet_utils.decode_predictions`, but the class index
    ships with the package (no download).
    """
    preds = np.asarray(ops.convert_to_numpy(preds) if not isinstance(preds, np.ndarray) else preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    if not isinstance(top, int) or not 1 <= top <= 1000:
        raise ValueError(f"`top` must be an integer in [1, 1000]. Received: top={top!r}")
    classes = imagenet_classes()
    results = []
    for row in preds:
        best = np.argsort(row)[::-1][:top]
        results.append([(classes[i][0], classes[i][1], float(row[i])) for i in best])
    return results
