"""Data sources and pipelines: digits (embedded), tfds, image folders, TFRecords."""

import os

from .pipeline import PipelineFactory
from .source import DataSource, Split

PREFIXES = ("tfds:", "folder:", "tfrecord:")


def _looks_like_tfrecords(path):
    return any(name.startswith(("train-", "validation-")) for name in os.listdir(path))


def load_source(cfg) -> DataSource:
    """Resolve `cfg.data` to a DataSource. Raises ValueError for unknown names or missing paths."""
    data = cfg.data
    if not isinstance(data, str) or not data:
        raise ValueError(f"`data` must be a non-empty string; received {data!r}")
    if data == "digits":
        from .digits import digits_source

        return digits_source(cfg)
    kind, _, rest = data.partition(":") if data.startswith(PREFIXES) else ("", "", data)
    if kind == "tfds":
        from .tfds_source import tfds_source

        return tfds_source(rest, cfg)
    is_path = kind in ("folder", "tfrecord") or os.path.isdir(data) or os.sep in data or data.startswith(".")
    if is_path and not os.path.isdir(rest):
        raise ValueError(f"Data directory not found: {rest!r} (from data={data!r})")
    if kind == "tfrecord" or (not kind and is_path and _looks_like_tfrecords(rest)):
        from .tfrecord import tfrecord_source

        return tfrecord_source(rest, cfg)
    if kind == "folder" or is_path:
        from .image_folder import image_folder_source

        return image_folder_source(rest, cfg)
    from .tfds_source import tfds_source

    return tfds_source(data, cfg)


def make_pipelines(cfg, source, spec) -> PipelineFactory:
    """Pipelines with image size / crop / augmentation defaults from the source and model spec."""
    image_size = cfg.image_size or source.default_size or spec.default_size
    if image_size < spec.min_size:
        raise ValueError(f"image_size={image_size} is below {spec.name}'s minimum input size {spec.min_size}")
    if spec.min_train_size and image_size < spec.min_train_size:
        raise ValueError(f"image_size={image_size} is below {spec.name}'s minimum training size {spec.min_train_size}: "
                         "smaller inputs leave its last feature maps 1-2 pixels wide, where training-mode batch "
                         "statistics blow the gradients up. Train at --image-size >= "
                         f"{spec.min_train_size} (its default is {spec.default_size}).")
    crop_pct = cfg.crop_pct or source.default_crop_pct
    augment = source.default_augment if cfg.augment == "auto" else cfg.augment
    return PipelineFactory(source, cfg, image_size, crop_pct, augment, spec.mean, spec.std)


__all__ = ["DataSource", "PipelineFactory", "Split", "load_source", "make_pipelines"]
