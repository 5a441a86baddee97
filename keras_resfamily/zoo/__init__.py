"""Importing this package registers every model row."""

from keras_resfamily.zoo import resnet  # noqa: F401
from keras_resfamily.zoo import gcnet, genet, repvgg  # noqa: F401,E402
from keras_resfamily.zoo import res2net, resnest, sknet  # noqa: F401,E402
