"""Load a timm / torchvision `state_dict` into a keras_resfamily model, by layer name.

Keras layer names are the reference module paths with '.' written as '-' (the Keras torch backend
keys variables by path and torch forbids '.' there; reference names never contain '-'). So the
PyTorch key of a Keras variable is its path with '/' and '-' replaced by '.' and the variable name translated (kernel -> weight, gamma -> weight,
moving_mean -> running_mean, ...). Kernels are transposed from PyTorch's OIHW layout. Every
variable must be matched exactly once, with the right shape: a checkpoint for another
architecture fails with the mismatching names, never loads partially.
"""

import numpy as np

import keras

VARIABLE_NAMES = {
    "kernel": "weight",
    "bias": "bias",
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}
# PyTorch bookkeeping with no Keras counterpart.
IGNORED_SUFFIXES = (".num_batches_tracked",)
MAX_LISTED = 12


class WeightsMismatchError(ValueError):
    """The checkpoint does not fit the model (missing, unexpected or mis-shaped tensors)."""


def _layers_by_path(model):
    return {layer.path: layer for layer in model._flatten_layers(include_self=False, recursive=True)}


def reference_name(keras_name):
    """Reference module path of a Keras layer name or path ("layer1-0/se" -> "layer1.0.se")."""
    return keras_name.replace("/", ".").replace("-", ".")


def torch_key(variable):
    """The PyTorch state_dict key of a Keras variable of a keras_resfamily model."""
    owner, _, var_name = variable.path.rpartition("/")
    return reference_name(owner) + "." + VARIABLE_NAMES.get(var_name, var_name)


def to_keras_layout(array, layer, var_name):
    """PyTorch tensor -> the Keras variable's layout."""
    if var_name != "kernel":
        return array
    if isinstance(layer, keras.layers.DepthwiseConv2D):  # (C*M, 1, H, W) -> (H, W, C, M)
        channels = layer.input_spec.axes[-1] if layer.input_spec and layer.input_spec.axes else None
        multiplier = layer.depth_multiplier
        out, _, h, w = array.shape
        channels = channels or out // multiplier
        return array.reshape(channels, multiplier, h, w).transpose(2, 3, 0, 1)
    if isinstance(layer, keras.layers.Dense):  # (out, in[, 1, 1]) -> (in, out)
        return array.reshape(array.shape[0], -1).T
    if array.ndim == 4:  # Conv2D (O, I/groups, H, W) -> (H, W, I/groups, O)
        return array.transpose(2, 3, 1, 0)
    if array.ndim == 3:  # Conv1D (O, I, K) -> (K, I, O)
        return array.transpose(2, 1, 0)
    return array


def _as_numpy(value):
    if hasattr(value, "detach"):  # torch.Tensor, without importing torch
        value = value.detach().cpu().float().numpy() if value.dtype.is_floating_point else value.cpu().numpy()
    return np.asarray(value)


def _listing(names):
    names = sorted(names)
    more = f" ... and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more


def load_timm_state_dict(model, state_dict, ignore_prefixes=()):
    """Assign `state_dict` (name -> array or torch tensor) to `model`'s variables by name.

    Args:
        model: a keras_resfamily model.
        state_dict: the reference model's `state_dict()` or a safetensors dict.
        ignore_prefixes: checkpoint keys to skip (e.g. the classifier when `include_top=False`).

    Raises:
        WeightsMismatchError: naming every missing, unexpected and mis-shaped tensor.
    """
    layers = _layers_by_path(model)
    remaining = {
        k: v for k, v in state_dict.items()
        if not k.endswith(IGNORED_SUFFIXES) and not k.startswith(tuple(ignore_prefixes))
    }
    missing, mismatched, assignments = [], [], []
    for variable in model.weights:
        key = torch_key(variable)
        if key not in remaining:
            missing.append(key)
            continue
        owner, _, var_name = variable.path.rpartition("/")
        value = to_keras_layout(_as_numpy(remaining.pop(key)), layers.get(owner), var_name)
        if tuple(value.shape) != tuple(variable.shape):
            mismatched.append(f"{key} (checkpoint {tuple(value.shape)} vs model {tuple(variable.shape)})")
            continue
        assignments.append((variable, value))
    if missing or remaining or mismatched:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing in the checkpoint: {_listing(missing)}")
        if remaining:
            problems.append(f"{len(remaining)} unexpected in the checkpoint: {_listing(remaining)}")
        if mismatched:
            problems.append(f"{len(mismatched)} with mismatching shapes: {_listing(mismatched)}")
        raise WeightsMismatchError(
            f"The checkpoint does not match model {model.name!r}; nothing was loaded. " + "; ".join(problems)
        )
    for variable, value in assignments:
        variable.assign(value.astype(variable.dtype))
