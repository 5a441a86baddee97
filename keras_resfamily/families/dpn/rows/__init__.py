"""Importing this package registers every model row."""

from keras_resfamily.families.dpn.rows import dpn  # noqa: F401
