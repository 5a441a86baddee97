"""Argument checks of `export_serving`, all run before anything touches the disk."""

import os

import keras

from keras_resfamily.specs import ArchSpec, get_spec

DEFAULT_CROP_PCT = 0.875  # timm's default when a pretrained config gives none
DEFAULT_INTERPOLATION = "bilinear"
INTERPOLATIONS = ("bilinear", "bicubic")


def check_version_path(path, overwrite):
    """`<model_base>/<integer version>`; an existing non-empty one only with `overwrite=True`."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"`path` must be a directory path string. Received: path={path!r}")
    check_bool(overwrite, "overwrite")
    path = os.path.abspath(os.fspath(path))
    version = os.path.basename(path)
    if not (version.isascii() and version.isdigit()):
        raise ValueError(
            "`path` must be a TF Serving version directory `<model_base>/<version>` whose last "
            f"component is an integer, e.g. 'models/resnet50/1'. Received: path={path!r}"
        )
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"`path` exists and is not a directory. Received: path={path!r}")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise ValueError(
            f"The version directory {path!r} already exists and is not empty. Export to a new "
            "version number, or pass overwrite=True (--overwrite) to replace it."
        )
    if os.path.isdir(path) and os.listdir(path):
        _check_replaceable(path)
    return path


# What tf.saved_model.save writes into a version directory: overwrite=True replaces only that.
SAVED_MODEL_ENTRIES = {"saved_model.pb", "variables", "assets", "assets.extra", "fingerprint.pb"}


def _check_replaceable(path):
    entries = set(os.listdir(path))
    foreign = sorted(entries - SAVED_MODEL_ENTRIES)
    if foreign or "saved_model.pb" not in entries:
        found = ", ".join(foreign or sorted(entries))
        raise ValueError(
            f"overwrite=True replaces a SavedModel export, but {path!r} is not a SavedModel export "
            f"(found: {found}). Nothing was deleted; export to a new version directory."
        )


def check_classifier(model):
    """A built model with one image input (batch, H, W, 3) and one (batch, classes) output."""
    if not isinstance(model, keras.Model):
        raise ValueError(
            "`model` must be a keras.Model, e.g. keras_resfamily.create_model('ResNet50'). "
            f"Received: model of type {type(model).__name__}"
        )
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "export_serving writes a TensorFlow SavedModel and needs the TensorFlow backend. Received: "
            f"KERAS_BACKEND={keras.backend.backend()!r}; run with KERAS_BACKEND=tensorflow."
        )
    if not model.built:
        raise ValueError(
            f"`model` {model.name!r} is not built: it has no variables to export yet. Build it "
            "with an input shape (e.g. call it on a batch) or use the keras_resfamily constructors."
        )
    inputs = _functional_tensors(model, "inputs")
    outputs = _functional_tensors(model, "outputs")
    if inputs is None or outputs is None or len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(
            "`model` must be a functional model with one image input and one output. Received: "
            f"model {model.name!r} with inputs={_shapes(inputs)}, outputs={_shapes(outputs)}"
        )
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(in_shape) != 4 or in_shape[-1] != 3:
        raise ValueError(f"`model` must take RGB images (batch, height, width, 3). Received input shape {in_shape}")
    if len(out_shape) != 2 or out_shape[-1] is None:
        raise ValueError(
            "`model` must be a classifier returning (batch, classes); build it with include_top=True "
            f"and features_only=False. Received output shape {out_shape}"
        )


def _functional_tensors(model, attribute):
    try:
        tensors = getattr(model, attribute)
    except (AttributeError, ValueError):  # subclassed models raise instead of returning None
        return None
    return tensors if isinstance(tensors, (list, tuple)) else None


def _shapes(tensors):
    return None if tensors is None else [tuple(t.shape) for t in tensors]


def normalises_inputs(model) -> bool:
    """Built with `include_preprocessing=True` (its first layer normalises [0, 255] RGB)."""
    from keras_resfamily.builder import PREPROCESSING_LAYER

    return any(layer.name == PREPROCESSING_LAYER for layer in model.layers[:3])


def resolve_spec(spec, model):
    """The spec named by `spec`, else the one whose default Keras name is `model.name`."""
    if spec is not None:
        return get_spec(spec)  # raises "Unknown model name ..." for unregistered names
    try:
        return get_spec(model.name)
    except ValueError:
        raise ValueError(
            f"Cannot tell which registered architecture model {model.name!r} is (its name is not "
            "a constructor's default name). Pass spec='<ModelName>', e.g. spec='ResNet50', to "
            "choose the input normalisation."
        ) from None


def pretrained_data_config(spec: ArchSpec, weights=None):
    """input_size / crop_pct / interpolation / mean / std of the model's pretrained weights.

    `weights` as given to the constructor: a tag or "imagenet" selects that checkpoint's timm config
    (unknown tags raise); None, files and remote references use the default checkpoint's. Models
    without published weights use the spec with timm's defaults (crop_pct 0.875, bilinear).
    """
    from keras_resfamily import hub

    if isinstance(weights, str) and not os.path.exists(weights) and "://" not in weights:
        entry = hub.get_weights_entry(spec.name, weights)
    else:
        try:
            entry = hub.get_weights_entry(spec.name, "imagenet")
        except ValueError:  # no published weights
            entry = None
    if entry is None:
        return {"input_size": spec.default_size, "crop_pct": DEFAULT_CROP_PCT,
                "interpolation": DEFAULT_INTERPOLATION, "mean": spec.mean, "std": spec.std}
    return {"input_size": entry.input_size[1], "crop_pct": entry.crop_pct, "interpolation": entry.interpolation,
            "mean": entry.mean, "std": entry.std}


def resolve_image_size(image_size, input_size, default_size):
    """predict_images' crop: explicit, else the model's fixed (square) input size, else default."""
    height, width = input_size
    fixed = height is not None or width is not None
    if fixed and height != width:
        raise ValueError(
            "predict_images center-crops square images; the model's input must be square or "
            f"dynamic (None, None). Received model input size {input_size}"
        )
    if image_size is None:
        return height if fixed else default_size
    if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 1:
        raise ValueError(f"`image_size` must be a positive integer. Received: image_size={image_size!r}")
    if fixed and image_size != height:
        raise ValueError(
            f"`image_size`={image_size} differs from the model's fixed input size {height}x{width}; "
            "omit image_size or build the model with input_shape=(None, None, 3)."
        )
    return image_size


def check_crop_pct(crop_pct):
    if not isinstance(crop_pct, (int, float)) or isinstance(crop_pct, bool) or not 0.0 < crop_pct <= 1.0:
        raise ValueError(f"`crop_pct` must be a number in (0, 1]. Received: crop_pct={crop_pct!r}")
    return float(crop_pct)


def check_interpolation(interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {INTERPOLATIONS}. Received: interpolation={interpolation!r}")
    return interpolation


def check_bool(value, what):
    if not isinstance(value, bool):
        raise ValueError(f"`{what}` must be True or False. Received: {what}={value!r}")
    return value


def returns_logits(model):
    """True when the classifier has no activation: the signatures then apply softmax."""
    activation = getattr(model.layers[-1], "activation", None)
    return activation is None or activation is keras.activations.linear


def resolve_labels(labels, classes):
    if labels is None:
        if classes == 1000:
            from keras_resfamily.preprocessing import imagenet_classes

            return tuple(name for _, name in imagenet_classes())
        return tuple(f"class_{i}" for i in range(classes))
    if not isinstance(labels, (list, tuple)) or not all(isinstance(v, str) for v in labels) or len(labels) != classes:
        raise ValueError(
            f"`labels` must be a list of {classes} strings, one per class of the model. Received: "
            f"{type(labels).__name__} of length {len(labels) if hasattr(labels, '__len__') else '?'}"
        )
    return tuple(labels)


def check_top_k(top_k, classes):
    if top_k is None:
        return min(5, classes)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= classes:
        raise ValueError(
            f"`top_k` must be an integer in [1, {classes}] (the model's classes). Received: top_k={top_k!r}"
        )
    return top_k


def check_max_pixels(max_pixels):
    if not isinstance(max_pixels, int) or isinstance(max_pixels, bool) or max_pixels < 1:
        raise ValueError(f"`max_pixels` must be a positive integer. Received: max_pixels={max_pixels!r}")
    return max_pixels


def check_readable_file(path, option):
    """A CLI file argument that exists and can be read (a clean `error:` line instead of a traceback)."""
    if not os.path.exists(path):
        raise ValueError(f"{option}: no such file. Received: {option} {path!r}")
    if not os.path.isfile(path):
        raise ValueError(f"{option}: not a file. Received: {option} {path!r}")
    if not os.access(path, os.R_OK):
        raise ValueError(f"{option}: the file is not readable. Received: {option} {path!r}")
    return path
