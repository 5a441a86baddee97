"""Image files -> model inputs, preprocessed the way a checkpoint was evaluated (timm's evaluation transform).

Each image is decoded (JPEG / PNG / GIF first frame / BMP / WebP), its shorter side resized to
size / crop_pct with the weights' interpolation, centre-cropped to size and normalised with the
weights' mean / std: the same code the exported `predict_images` signature runs.
"""

import dataclasses
import os

import numpy as np

from keras_resfamily.specs import get_spec

DEFAULT_CROP_PCT, DEFAULT_INTERPOLATION = 0.875, "bilinear"  # timm's defaults, for weights with no config


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    size: int
    crop_pct: float
    interpolation: str
    mean: tuple
    std: tuple


def preprocessing_for(model, weights="imagenet", size=None):
    """The evaluation transform of `model`'s `weights`: for "imagenet" or a tag, its registry config (size,
    crop_pct, interpolation, mean, std); for None, a file or a URL, the model's defaults. `size` overrides the size."""
    spec = get_spec(model)
    if weights is not None and not os.path.exists(weights) and "://" not in weights:
        from keras_resfamily import hub

        entry = hub.get_weights_entry(spec.name, weights)
        return Preprocessing(size or entry.input_size[1], entry.crop_pct, entry.interpolation,
                             tuple(entry.mean), tuple(entry.std))
    return Preprocessing(size or spec.default_size, DEFAULT_CROP_PCT, DEFAULT_INTERPOLATION, spec.mean, spec.std)


def load_images(paths, model, weights="imagenet", size=None):
    """Image files -> float32 [n, size, size, 3], preprocessed for `model`'s `weights` (see `preprocessing_for`).

    `paths`: one path or a list of them. Raises ValueError naming a file that cannot be read or decoded.
    """
    preprocessing = preprocessing_for(model, weights, size)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise ValueError("load_images needs at least one image path; received none.")
    import tensorflow as tf

    from keras_resfamily.export.serving_module import decode_rgb, resize_and_center_crop

    batch = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                encoded = handle.read()
        except OSError as error:
            raise ValueError(f"Cannot read image {path!r}: {error.strerror or error}.") from None
        try:
            image = decode_rgb(encoded)
        except tf.errors.InvalidArgumentError:
            raise ValueError(f"Cannot decode image {path!r}: expected a JPEG, PNG, GIF, BMP or WebP file.") from None
        batch.append(resize_and_center_crop(image, preprocessing.size, preprocessing.crop_pct,
                                            preprocessing.interpolation).numpy())
    pixels = np.stack(batch) / 255.0
    return ((pixels - np.asarray(preprocessing.mean)) / np.asarray(preprocessing.std)).astype("float32")
