"""Importing this package registers every model row."""

from keras_resfamily.families.shufflenetv1.rows import shufflenetv1  # noqa: F401
