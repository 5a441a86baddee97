"""Importing this package registers every model row."""

from keras_resfamily.families.shufflenetv2.rows import shufflenetv2  # noqa: F401
