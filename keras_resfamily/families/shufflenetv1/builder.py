"""The shufflenetv1 family's builder: the ShuffleNet V1 of Megvii's release (megvii-model/ShuffleNet-Series,
ShuffleNetV1/network.py, blocks.py) under its module paths ('.' -> '-'), so its checkpoints load by name.

    first_conv (3x3 / 2 conv, BN, ReLU), maxpool (3x3 / 2, padding 1), features.0-15 (`ShuffleV1Block`,
    the first of each stage stride 2), globalpool, classifier.0 (bias-free linear). A unit:
      branch_main_1: 1x1 conv in `groups` groups (not grouped in stage 2's first unit, whose input
      has few channels), BN, ReLU, 3x3 depthwise conv (the unit's stride), BN;
      channel shuffle (the release's order, ChannelShuffle "deinterleave"; none with 1 group);
      branch_main_2: 1x1 conv in `groups` groups, BN;
      stride 1: ReLU(input + main); stride 2: concat(branch_proj = 3x3 / 2 average pool with padding 1
      counting the padded zeros, ReLU(main)), the main branch giving the channels the input lacks.
The bottleneck has a quarter of the unit's output channels. Every conv is bias-free; the 3x3 ones pad
1 pixel on every side as PyTorch does (Keras' 'same' pads stride-2 windows only at the bottom / right).
"""

import keras

from keras_resfamily.layers import ChannelShuffle, GroupedConv2D, PaddedMaxPooling2D, StochasticDepth
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.mixed_depthwise_conv2d import padded_input
from keras_resfamily.layers.utils import kaiming_fan_out

BN_MOMENTUM = 0.9  # torch's momentum 0.1



def pointwise(x, filters, groups, name):
    return GroupedConv2D(filters, 1, groups=groups, use_bias=False, kernel_initializer=kaiming_fan_out(),
                         name=name)(x)


def batch_norm(x, name, spec):
    return BatchNorm(momentum=BN_MOMENTUM, epsilon=spec.bn_epsilon, name=name)(x)


def unit(x, channels, strides, first, prefix, spec, drop_path_rate):
    """One `ShuffleV1Block` with `channels` outputs; `first`: stage 2's first unit."""
    main_channels = channels - x.shape[-1] if strides == 2 else channels
    mid = channels // 4
    y = pointwise(x, mid, 1 if first else spec.groups, f"{prefix}-branch_main_1-0")
    y = batch_norm(y, f"{prefix}-branch_main_1-1", spec)
    y = keras.layers.ReLU(name=f"{prefix}-branch_main_1-2")(y)
    y, padding = padded_input(y, 3, strides, f"{prefix}-branch_main_1-3")
    y = keras.layers.DepthwiseConv2D(3, strides=strides, padding=padding, use_bias=False,
                                     depthwise_initializer=kaiming_fan_out(), name=f"{prefix}-branch_main_1-3")(y)
    y = batch_norm(y, f"{prefix}-branch_main_1-4", spec)
    if spec.groups > 1:
        y = ChannelShuffle(spec.groups, order="deinterleave", name=f"{prefix}-shuffle")(y)
    y = pointwise(y, main_channels, spec.groups, f"{prefix}-branch_main_2-0")
    y = batch_norm(y, f"{prefix}-branch_main_2-1", spec)
    if strides == 1:
        if drop_path_rate > 0:
            y = StochasticDepth(drop_path_rate, name=f"{prefix}-drop_path")(y)
        # The shortcut first: Keras' graph walk follows a node's first input (graph_walk.py).
        y = keras.layers.Add(name=f"{prefix}-add")([x, y])
        return keras.layers.ReLU(name=f"{prefix}-relu")(y)
    shortcut = keras.layers.ZeroPadding2D(1, name=f"{prefix}-branch_proj-pad")(x)
    shortcut = keras.layers.AveragePooling2D(3, 2, padding="valid", name=f"{prefix}-branch_proj")(shortcut)
    y = keras.layers.ReLU(name=f"{prefix}-relu")(y)
    return keras.layers.Concatenate(name=f"{prefix}-cat")([shortcut, y])


def build_trunk(x, spec, drop_path_rate):
    """The trunk and the last map at each reduction ("stride2" ... "stride32"). `drop_path_rate` drops
    the main branch of the stride-1 (residual) units, rising linearly to it over the units."""
    stem, *stages = spec.stage_channels
    x, padding = padded_input(x, 3, 2, "first_conv-0")
    x = keras.layers.Conv2D(stem, 3, strides=2, padding=padding, use_bias=False, kernel_initializer=kaiming_fan_out(),
                            name="first_conv-0")(x)
    x = batch_norm(x, "first_conv-1", spec)
    x = keras.layers.ReLU(name="first_conv-2")(x)
    features = {"stride2": x}
    x = PaddedMaxPooling2D(3, 2, padding=1, name="maxpool")(x)
    features["stride4"] = x
    stride, index, last = 4, 0, max(spec.num_blocks() - 1, 1)
    for stage, (repeats, channels) in enumerate(zip(spec.stage_repeats, stages)):
        stride *= 2
        for position in range(repeats):
            x = unit(x, channels, 2 if position == 0 else 1, stage == 0 and position == 0, f"features-{index}", spec,
                     drop_path_rate * index / last)
            index += 1
        features[f"stride{stride}"] = x
    return x, features


def build_head(x, spec, classes, classifier_activation, dropout_rate):
    """The release's top: global average pool (`globalpool`, its AvgPool2d(7) on the 7x7 map of a
    224 input; any size here) and the bias-free `classifier.0`, in float32 (logits and probabilities
    stay float32 under mixed precision). The release has no dropout; `dropout_rate` adds one."""
    x = keras.layers.GlobalAveragePooling2D(name="globalpool", dtype="float32")(x)
    if dropout_rate:
        x = keras.layers.Dropout(dropout_rate, name=spec.dropout_name)(x)
    return keras.layers.Dense(classes, activation=classifier_activation, use_bias=False, name=spec.classifier_name,
                              dtype="float32")(x)
