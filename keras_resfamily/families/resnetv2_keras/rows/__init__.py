"""Importing this package registers every model row."""

from keras_resfamily.families.resnetv2_keras.rows import resnetv2  # noqa: F401
