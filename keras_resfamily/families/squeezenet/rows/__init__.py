"""Importing this package registers every model row."""

from keras_resfamily.families.squeezenet.rows import squeezenet  # noqa: F401
