"""The shufflenetv2 family's builder: torchvision's `ShuffleNetV2` under its module paths ('.' -> '-').

    conv1 (3x3 / 2 conv, BN, ReLU), maxpool (3x3 / 2, padding 1), stage2-4 (`InvertedResidual`
    units, the first of each stride 2), conv5 (1x1 conv, BN, ReLU); the shared head (global average
    pool, `fc`). A unit concatenates two branches of half the output channels each, then shuffles
    the channels in 2 groups (torchvision's order, ChannelShuffle "interleave"):
      stride 2: branch1 = 3x3 / 2 depthwise conv, BN, 1x1 conv, BN, ReLU on the input;
      stride 1: the input's first half passes unchanged (torchvision's `chunk(2)`);
      branch2 (on the whole input at stride 2, on the second half at stride 1) = 1x1 conv, BN, ReLU,
      3x3 depthwise conv (the unit's stride), BN, 1x1 conv, BN, ReLU.
Every conv is bias-free; the 3x3 ones pad 1 pixel on every side as PyTorch does (Keras' 'same' pads
stride-2 convs only at the bottom / right, which would shift every window by one pixel).
"""

import keras

from keras_resfamily.layers import ChannelShuffle, PaddedMaxPooling2D
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.mixed_depthwise_conv2d import padded_input
from keras_resfamily.layers.utils import kaiming_fan_out

BN_MOMENTUM = 0.9  # torch's momentum 0.1



def conv(x, filters, name, kernel=1, strides=1):
    padding = "valid"
    if kernel == 3:
        x, padding = padded_input(x, 3, strides, name)
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False,
                               kernel_initializer=kaiming_fan_out(), name=name)(x)


def depthwise(x, name, strides):
    x, padding = padded_input(x, 3, strides, name)
    return keras.layers.DepthwiseConv2D(3, strides=strides, padding=padding, use_bias=False,
                                        depthwise_initializer=kaiming_fan_out(), name=name)(x)


def batch_norm(x, name, spec):
    return BatchNorm(momentum=BN_MOMENTUM, epsilon=spec.bn_epsilon, name=name)(x)


def relu(x, name):
    return keras.layers.ReLU(name=name)(x)


def _branch1(x, filters, prefix, spec):
    """The stride-2 unit's input branch (torchvision's `branch1` Sequential, indices 0-4)."""
    x = depthwise(x, f"{prefix}-0", strides=2)
    x = batch_norm(x, f"{prefix}-1", spec)
    x = conv(x, filters, f"{prefix}-2")
    x = batch_norm(x, f"{prefix}-3", spec)
    return relu(x, f"{prefix}-4")


def _branch2(x, filters, strides, prefix, spec):
    """torchvision's `branch2` Sequential (indices 0-7)."""
    x = conv(x, filters, f"{prefix}-0")
    x = batch_norm(x, f"{prefix}-1", spec)
    x = relu(x, f"{prefix}-2")
    x = depthwise(x, f"{prefix}-3", strides)
    x = batch_norm(x, f"{prefix}-4", spec)
    x = conv(x, filters, f"{prefix}-5")
    x = batch_norm(x, f"{prefix}-6", spec)
    return relu(x, f"{prefix}-7")


def unit(x, channels, strides, prefix, spec):
    """One `InvertedResidual`: `channels` outputs, stride 1 or 2."""
    half = channels // 2
    if strides == 2:
        kept, processed = _branch1(x, half, f"{prefix}-branch1", spec), x
    else:
        if x.shape[-1] != channels:
            raise ValueError(f"{prefix}: a stride-1 unit needs {channels} input channels; received {x.shape[-1]}.")
        kept, processed = keras.ops.split(x, 2, axis=-1)
    x = keras.layers.Concatenate(name=f"{prefix}-cat")([kept, _branch2(processed, half, strides, f"{prefix}-branch2",
                                                                         spec)])
    return ChannelShuffle(2, order="interleave", name=f"{prefix}-shuffle")(x)


def build_trunk(x, spec, drop_path_rate):
    """The trunk and the last map at each reduction ("stride2" ... "stride32"). ShuffleNet V2 adds no
    residual branch (its units concatenate): `drop_path_rate` has nothing to drop."""
    del drop_path_rate
    stem, *stages, last = spec.stage_channels
    x = conv(x, stem, "conv1-0", kernel=3, strides=2)
    x = batch_norm(x, "conv1-1", spec)
    x = relu(x, "conv1-2")
    features = {"stride2": x}
    x = PaddedMaxPooling2D(3, 2, padding=1, name="maxpool")(x)
    features["stride4"] = x
    stride = 4
    for stage, (repeats, channels) in enumerate(zip(spec.stage_repeats, stages), start=2):
        stride *= 2
        for index in range(repeats):
            x = unit(x, channels, 2 if index == 0 else 1, f"stage{stage}-{index}", spec)
        features[f"stride{stride}"] = x
    x = conv(x, last, "conv5-0")
    x = batch_norm(x, "conv5-1", spec)
    x = relu(x, "conv5-2")
    features[f"stride{stride}"] = x
    return x, features
