"""The squeezenet family's builder: stem conv + ReLU, then Fire modules and ceil-mode max pools
(torchvision `features.N`, N the index in its Sequential), and the convolutional classifier.

    Fire: squeeze 1x1 conv + ReLU, then expand1x1 (1x1 conv + ReLU) and expand3x3 (3x3 conv,
    padding 1, + ReLU) concatenated in that order. Every conv has a bias.
"""

import keras

from keras_resfamily.layers import PaddedMaxPooling2D

POOL = "pool"  # table entry: torchvision's MaxPool2d(3, 2, ceil_mode=True)
# torchvision's init: kaiming uniform for every conv but the classifier's, normal(0, 0.01) for it; zero biases.
FEATURES_INIT = "he_uniform"


def _fire(x, squeeze, expand, prefix):
    x = keras.layers.Conv2D(squeeze, 1, kernel_initializer=FEATURES_INIT, name=f"{prefix}-squeeze")(x)
    x = keras.layers.ReLU(name=f"{prefix}-squeeze_activation")(x)
    branches = []
    # expand3x3: stride 1, padding 1 == Keras 'same'
    for kind, kernel in (("expand1x1", 1), ("expand3x3", 3)):
        y = keras.layers.Conv2D(expand, kernel, padding="same", kernel_initializer=FEATURES_INIT,
                                name=f"{prefix}-{kind}")(x)
        branches.append(keras.layers.ReLU(name=f"{prefix}-{kind}_activation")(y))
    return keras.layers.Concatenate(name=f"{prefix}-cat")(branches)


def build_trunk(x, spec, drop_path_rate):
    """The trunk and the last map at each nominal reduction ("stride2" ... "stride16"; unpadded stem
    and ceil-mode pools make each map a few pixels off size / stride). SqueezeNet has no residual
    branch: `drop_path_rate` has nothing to drop."""
    del drop_path_rate
    x = keras.layers.Conv2D(spec.stem_width, spec.stem_kernel, strides=2, kernel_initializer=FEATURES_INIT,
                            name="features-0")(x)
    x = keras.layers.ReLU(name="features-1")(x)
    stride = 2
    features = {f"stride{stride}": x}
    for index, entry in enumerate(spec.layers, start=2):
        if entry == POOL:
            x = PaddedMaxPooling2D(3, 2, padding=0, ceil_mode=True, name=f"features-{index}")(x)
            stride *= 2
        else:
            x = _fire(x, *entry, prefix=f"features-{index}")
        features[f"stride{stride}"] = x
    return x, features


def build_head(x, spec, classes, classifier_activation, dropout_rate):
    """torchvision's classifier: Dropout (classifier.0), 1x1 conv with bias (classifier.1), ReLU,
    global average pool, all in float32 (logits / probabilities stay float32 under mixed precision),
    then `classifier_activation`."""
    if dropout_rate:
        x = keras.layers.Dropout(dropout_rate, name=spec.dropout_name)(x)
    x = keras.layers.Conv2D(classes, 1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
                            name=spec.classifier_name, dtype="float32")(x)
    x = keras.layers.ReLU(name="classifier-2", dtype="float32")(x)
    x = keras.layers.GlobalAveragePooling2D(name="classifier-3", dtype="float32")(x)
    if classifier_activation is not None:
        x = keras.layers.Activation(classifier_activation, name="predictions", dtype="float32")(x)
    return x
