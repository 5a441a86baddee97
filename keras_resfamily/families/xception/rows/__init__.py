"""Importing this package registers every model row."""

from keras_resfamily.families.xception.rows import xception  # noqa: F401
