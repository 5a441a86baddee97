"""Importing this package registers every model row."""

from keras_resfamily.families.residual.rows import resnet  # noqa: F401
from keras_resfamily.families.residual.rows import gcnet, genet, repvgg  # noqa: F401,E402
from keras_resfamily.families.residual.rows import res2net, resnest, sknet  # noqa: F401,E402
