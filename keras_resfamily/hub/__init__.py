"""Pretrained weights: resolve the `weights=` argument of the constructors and load it."""

import os

from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layouts import LAYOUTS

LOCAL_SUFFIXES = (".weights.h5", ".safetensors")


def _is_local_file(weights):
    return isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)


def is_pretrained(weights, spec):
    """Validate `weights=`; True when it names pretrained (ImageNet-class) weights."""
    if weights is None:
        return False
    if weights == "imagenet":
        return True
    if _is_local_file(weights) and str(weights).endswith(LOCAL_SUFFIXES):
        return False
    raise ValueError(
        "The `weights` argument should be either `None` (random initialization), 'imagenet' "
        "(pre-training on ImageNet), or the path to the weights file to be loaded "
        f"({' or '.join(LOCAL_SUFFIXES)}). Received: weights={weights!r}"
    )


def load_weights(model, spec, weights, include_top=True):
    """Load `weights` (see `is_pretrained`) into a freshly built `model` of `spec`."""
    path = str(weights)
    if path.endswith(".weights.h5"):
        model.load_weights(path)
    elif path.endswith(".safetensors"):
        from safetensors.numpy import load_file

        ignore = () if include_top else (LAYOUTS[spec.layout].classifier + ".",)
        load_timm_state_dict(model, load_file(path), ignore_prefixes=ignore)
    else:
        raise ValueError(f"No pretrained weights are registered for {spec.name} (weights={weights!r}).")
