"""Importing this package registers every model row."""

from keras_resfamily.families.depthwise.rows import efficientnet, mixnet, mobilenet  # noqa: F401
