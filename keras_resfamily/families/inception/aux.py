"""The auxiliary classifiers the references train with, on a map of the trunk (`Layout.aux_inputs`).

Both end in float32 classifiers with the main classifier's activation (they are trained with its loss).
"""

import keras

from keras_resfamily.families.inception import ops
from keras_resfamily.layers import AdaptiveAveragePooling2D

AUX_DROPOUT = 0.7  # torchvision's `dropout_aux`


def googlenet_aux(x, name, classes, activation, ctx):
    """torchvision's InceptionAux: adaptive 4x4 average pool (uneven bins where 4 does not divide the
    map), 1x1 conv to 128, flatten, fc1 + ReLU, dropout 0.7, fc2."""
    x = AdaptiveAveragePooling2D((4, 4), name=f"{name}-pool")(x)
    x = ops.build(x, ops.Conv(128), f"{name}.conv", ctx)
    # PyTorch flattens (C, H, W): fc1's 2048 inputs are channel-major.
    x = keras.layers.Permute((3, 1, 2), name=f"{name}-channels_first")(x)
    x = keras.layers.Flatten(name=f"{name}-flatten")(x)
    x = keras.layers.Dense(1024, activation="relu", name=f"{name}-fc1")(x)
    x = keras.layers.Dropout(AUX_DROPOUT, name=f"{name}-dropout")(x)
    return keras.layers.Dense(classes, activation=activation, name=f"{name}-fc2", dtype="float32")(x)


def inception_v3_aux(x, name, classes, activation, ctx):
    """timm's (torchvision's) InceptionAux: 5x5 / 3 average pool, 1x1 conv to 128, 5x5 conv to 768
    (the map must be at least 17x17: inputs of at least 299x299), global average pool, fc."""
    x = keras.layers.AveragePooling2D(5, strides=3, padding="valid", name=f"{name}-pool")(x)
    x = ops.build(x, ops.Conv(128), f"{name}.conv0", ctx)
    x = ops.build(x, ops.Conv(768, 5), f"{name}.conv1", ctx)
    x = keras.layers.GlobalAveragePooling2D(name=f"{name}-global_pool", dtype="float32")(x)
    return keras.layers.Dense(classes, activation=activation, name=f"{name}-fc", dtype="float32")(x)


AUX_HEADS = {"googlenet": googlenet_aux, "inception_v3": inception_v3_aux}
