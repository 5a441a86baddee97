"""`export_serving`: a versioned SavedModel directory for TensorFlow Serving.

Signatures (loadable with `tf.saved_model.load`, no Keras needed):
    serving_default(images: float32 [batch, H, W, 3]) -> {probabilities: float32 [batch, classes]}
    predict_images(image_bytes: string [batch]) -> {class_ids: int64 [batch, k],
        labels: string [batch, k], scores: float32 [batch, k]}
"""

import os
import shutil
import tempfile

import tensorflow as tf

from keras_resfamily.export import checks
from keras_resfamily.export.serving_module import DEFAULT_MAX_PIXELS, ServingConfig, ServingModule


def export_serving(
    model,
    path,
    *,
    spec=None,
    weights=None,
    include_preprocessing=True,
    labels=None,
    top_k=None,
    image_size=None,
    crop_pct=None,
    interpolation=None,
    fold=False,
    overwrite=False,
    max_pixels=DEFAULT_MAX_PIXELS,
):
    """Write `model` as a TF Serving SavedModel version directory, e.g. `models/resnet50/1`.

    Args:
        model: a built keras_resfamily classifier (`include_top=True`).
        path: the version directory `<model_base>/<version>`; the last component must be an
            integer, as TF Serving requires.
        spec: registered model name or spec; default: inferred from `model.name` (the
            constructors' default name).
        weights: the `weights=` the model was built with; a pretrained tag / "imagenet" selects
            that checkpoint's preprocessing config (size, crop_pct, interpolation, mean, std) from
            the weights hub. Otherwise the default checkpoint's config, else the spec's.
        include_preprocessing: True: `serving_default` takes RGB in [0, 255] and normalises
            with the config's mean / std. False: it takes already-normalised images. A model built
            with `include_preprocessing=True` normalises itself: both signatures feed it [0, 255].
        labels: class names for `predict_images`; default: ImageNet names for 1000 classes,
            else "class_<i>".
        top_k: number of classes `predict_images` returns per image (default min(5, classes)).
        image_size: crop size of `predict_images`; default: the model's fixed input size, else
            the pretrained config's / spec's `default_size`.
        crop_pct: center-crop fraction of `predict_images` (default: the config's, else 0.875).
        interpolation: "bilinear" or "bicubic" resize (default: the config's, else "bilinear").
        fold: export the inference form (`keras_resfamily.deploy.fold`: BatchNorm folded into the convs
            before it, RepVGG blocks re-parameterised; a model with nothing to fold is exported as it is).
        overwrite: replace an existing non-empty version directory.
        max_pixels: `predict_images` refuses an image whose header announces more than
            height * width pixels (InvalidArgumentError naming both), before decoding it. Stored in
            the graph. Default 2**26 (67 MP): full-size photos of current cameras pass; a decoded
            image stays under 192 MiB.

    Returns:
        The version directory path. It appears only once complete (written next to it under a
        temporary name, then renamed): TF Serving never sees a half-written version and an
        existing export survives any failure.
    """
    path = checks.check_version_path(path, overwrite)
    checks.check_classifier(model)
    spec = checks.resolve_spec(spec, model)
    pretrained = checks.pretrained_data_config(spec, weights)
    if checks.check_bool(fold, "fold"):
        from keras_resfamily.deploy import fold as fold_model

        model = fold_model(model)
    config = _serving_config(model, pretrained, include_preprocessing, labels, top_k, image_size, crop_pct,
                             interpolation, checks.check_max_pixels(max_pixels))
    _write_atomically(ServingModule(model, config), path)
    return path


def _serving_config(model, pretrained, include_preprocessing, labels, top_k, image_size, crop_pct, interpolation,
                    max_pixels):
    classes = model.outputs[0].shape[-1]
    input_size = tuple(model.inputs[0].shape[1:3])
    return ServingConfig(
        input_size=input_size,
        crop_size=checks.resolve_image_size(image_size, input_size, pretrained["input_size"]),
        crop_pct=checks.check_crop_pct(pretrained["crop_pct"] if crop_pct is None else crop_pct),
        interpolation=checks.check_interpolation(
            pretrained["interpolation"] if interpolation is None else interpolation),
        mean=tuple(float(v) for v in pretrained["mean"]),
        std=tuple(float(v) for v in pretrained["std"]),
        include_preprocessing=checks.check_bool(include_preprocessing, "include_preprocessing"),
        apply_softmax=checks.returns_logits(model),
        labels=checks.resolve_labels(labels, classes),
        top_k=checks.check_top_k(top_k, classes),
        max_pixels=max_pixels,
        model_normalises=checks.normalises_inputs(model),
    )


def _write_atomically(module, path):
    parent, version = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    # Dot-prefixed, non-numeric names: TF Serving ignores them while they exist.
    staging = tempfile.mkdtemp(prefix=f".{version}.staging-", dir=parent)
    try:
        tf.saved_model.save(module, staging, signatures=module.signatures())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = None
    try:
        if os.path.exists(path):  # an empty one, or overwrite=True: keep it until the swap is done
            previous = tempfile.mkdtemp(prefix=f".{version}.previous-", dir=parent)
            os.rmdir(previous)
            os.rename(path, previous)
        os.rename(staging, path)
    except BaseException:
        if previous is not None and os.path.isdir(previous) and not os.path.exists(path):
            os.rename(previous, path)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


__all__ = ["export_serving"]
