"""The densenet family's builder: stem, dense blocks joined by transitions, final norm + ReLU (the
head is shared, builder.py). Layer names are timm's / torchvision's module paths ('.' -> '-'):

    stem: features.conv0 (7x7 / 2, padding 3) + norm0 + ReLU, or the deep stem's conv0 (3x3 / 2) +
        norm0, conv1 + norm1, conv2 + norm2 (3x3, each + ReLU); then pool0 (max 3x3 / 2, padding 1).
    features.denseblockN.denselayerM: `DenseNetLayer` on all earlier maps of the block, concatenated;
        the block's output concatenates them all.
    features.transitionN: norm + ReLU, 1x1 conv halving the channels, 2x2 / 2 average pool (floor).
    features.norm5 + ReLU.
"""

import keras

from keras_resfamily.layers import DenseNetLayer, PaddedMaxPooling2D
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.densenet_layer import BN_MOMENTUM
from keras_resfamily.layers.mixed_depthwise_conv2d import padded_input
from keras_resfamily.layers.utils import kaiming_fan_in


def _norm_relu(x, spec, name):
    """timm's BatchNormAct2d (torchvision: BatchNorm2d then ReLU)."""
    x = BatchNorm(momentum=BN_MOMENTUM, epsilon=spec.bn_epsilon, name=name)(x)
    return keras.layers.ReLU(name=f"{name}-act")(x)


def _conv(x, filters, kernel_size, name, strides=1):
    """A bias-free conv with torch's symmetric padding (kernel_size // 2; 'same' is that at stride 1)."""
    x, padding = padded_input(x, kernel_size, strides, name)
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                               kernel_initializer=kaiming_fan_in(), name=name)(x)


def _stem(x, spec):
    """The stem before pool0: (stride-2 map, its name)."""
    width = 2 * spec.growth_rate
    if spec.stem == "deep":  # three 3x3 convs: growth_rate, growth_rate, 2 * growth_rate channels
        for index, (filters, strides) in enumerate(((spec.growth_rate, 2), (spec.growth_rate, 1), (width, 1))):
            x = _conv(x, filters, 3, f"features-conv{index}", strides)
            x = _norm_relu(x, spec, f"features-norm{index}")
        return x
    x = _conv(x, width, 7, "features-conv0", strides=2)
    return _norm_relu(x, spec, "features-norm0")


def _dense_block(x, spec, index, num_layers):
    """The block's layers and its output, the concatenation of its input and every layer's new channels.

    Without remat each layer takes the running concatenation (one ConcatV2 of two maps per layer, as
    keras.applications' DenseNets): TensorFlow's CPU concat copies each input's channels per pixel, and a
    concatenation of all earlier maps at once was 1.09x slower for DenseNet121 with oneDNN off (batch 8; level
    with it on). With remat a layer takes the list of maps and concatenates inside its recomputed unit, so the
    wide concatenations are not stored for the backward pass.
    """
    name = f"features-denseblock{index}"
    features = [x]
    for layer in range(1, num_layers + 1):
        new = DenseNetLayer(spec.growth_rate, spec.bn_size, bn_epsilon=spec.bn_epsilon, remat=spec.remat,
                            name=f"{name}-denselayer{layer}")(features if spec.remat else x)
        if spec.remat:
            features.append(new)
        else:
            x = keras.layers.Concatenate(name=name if layer == num_layers else f"{name}-concat{layer}")([x, new])
    return keras.layers.Concatenate(name=name)(features) if spec.remat else x


def _transition(x, spec, index):
    name = f"features-transition{index}"
    x = _norm_relu(x, spec, f"{name}-norm")
    x = _conv(x, x.shape[-1] // 2, 1, f"{name}-conv")
    # torch's AvgPool2d(2, 2): floor((n - 2) / 2) + 1, Keras 'valid'.
    return keras.layers.AveragePooling2D(2, 2, name=f"{name}-pool")(x)


def build_trunk(x, spec, drop_path_rate):
    """The trunk and timm's feature taps: "stride2" the stem (before pool0), "stride4" ... "stride16"
    the dense blocks before their transitions, "stride32" the final norm + ReLU. DenseNet has no
    residual branch: `drop_path_rate` has nothing to drop."""
    del drop_path_rate
    x = _stem(x, spec)
    features = {"stride2": x}
    x = PaddedMaxPooling2D(3, 2, padding=1, name="features-pool0")(x)
    stride = 4
    for index, num_layers in enumerate(spec.block_config, start=1):
        x = _dense_block(x, spec, index, num_layers)
        features[f"stride{stride}"] = x
        if index < len(spec.block_config):
            x = _transition(x, spec, index)
            stride *= 2
    x = _norm_relu(x, spec, "features-norm5")
    features[f"stride{stride}"] = x
    return x, features
