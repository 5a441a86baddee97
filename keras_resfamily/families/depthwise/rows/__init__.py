"""Importing this package registers every model row (torchvision's last: they derive from timm's)."""

from keras_resfamily.families.depthwise.rows import efficientnet, mixnet, mobilenet, torchvision  # noqa: F401
