"""Importing this package registers every model row."""

from keras_resfamily.families.inception.rows import googlenet, inception  # noqa: F401
