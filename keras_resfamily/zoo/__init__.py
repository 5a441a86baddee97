"""Importing this package registers every model row."""

from keras_resfamily.zoo import resnet  # noqa: F401
