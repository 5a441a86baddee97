"""Importing this package registers every model row."""

from keras_resfamily.families.densenet.rows import densenet  # noqa: F401
