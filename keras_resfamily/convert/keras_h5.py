"""keras.applications' weights as a reference state_dict: `<layer>.<weight|bias|running_mean|...>` in PyTorch's
layouts, so `load_timm_state_dict` assigns them by name with its checks (every variable exactly once, shapes).

Rows whose reference is a keras.applications model use its layer names, which hold no '-' or '.', so a layer's
reference path is its name. The files keras.applications publishes are `save_weights` .h5 files of Keras 2:
the root's `layer_names`, one group per layer whose `weight_names` ("conv1_conv/kernel:0") name datasets. They
are read as arrays only (HDF5 data, nothing is executed).
"""

import numpy as np

from keras_resfamily.convert.timm import VARIABLE_NAMES


def _text(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def reference_entry(layer_name, weight_name, array):
    """(state_dict key, array in PyTorch's layout) of a Keras weight ("kernel", "moving_mean", ...)."""
    var_name = _text(weight_name).rsplit("/", 1)[-1].split(":", 1)[0]
    if var_name not in VARIABLE_NAMES:
        raise ValueError(f"layer {layer_name!r} has a weight {weight_name!r} of a kind this converter does not know "
                         f"(known: {', '.join(VARIABLE_NAMES)})")
    array = np.asarray(array)
    if var_name == "kernel" and array.ndim == 4:  # Conv2D (H, W, I, O) -> (O, I, H, W)
        array = array.transpose(3, 2, 0, 1)
    elif var_name == "kernel" and array.ndim == 2:  # Dense (I, O) -> (O, I)
        array = array.T
    return f"{layer_name}.{VARIABLE_NAMES[var_name]}", array


def read_keras_h5(path) -> "dict[str, np.ndarray]":
    """The state_dict of a Keras `save_weights` .h5 file; ValueError (the reason) when it is not one."""
    import h5py

    state_dict = {}
    try:
        with h5py.File(path, "r") as root:
            group = root["model_weights"] if "model_weights" in root else root  # a whole-model .h5 nests them
            for layer_name in map(_text, group.attrs["layer_names"]):
                layer = group[layer_name]
                for weight_name in map(_text, layer.attrs["weight_names"]):
                    key, array = reference_entry(layer_name, weight_name, layer[weight_name][()])
                    state_dict[key] = array
    except (OSError, KeyError, TypeError) as error:  # h5py: not HDF5 / truncated; a missing attribute or group
        raise ValueError(f"not a Keras weights .h5 file: {error}") from None
    if not state_dict:
        raise ValueError("not a Keras weights .h5 file: it holds no weights")
    return state_dict
