"""The builder of keras.applications' ResNetV2 (`keras.applications.resnet_v2`), under its layer names.

    stem: conv1_conv (7x7 / 2, bias), pool1_pad + pool1_pool (3x3 / 2 max pool over a zero-padded map)
    block convS_blockB: preact_bn + preact_relu; shortcut: _0_conv (1x1, bias) on the pre-activated input in a
        stage's first block, else the block's input, subsampled in the strided block; residual: _1_conv (1x1)
        _1_bn _1_relu, _2_conv (3x3, the stage's stride in its last block) _2_bn _2_relu, _3_conv (1x1, bias);
        _out adds them.
    post_bn + post_relu after the last stage.
"""

import keras

from keras_resfamily.families.residual.blocks.common import conv2d, drop_path, relu
from keras_resfamily.layers.batch_norm import BatchNorm

# keras.applications' ResNetV2 BatchNorm (its checkpoints' statistics were estimated with these).
BN_EPSILON = 1.001e-5
BN_MOMENTUM = 0.99
EXPANSION = 4


def batch_norm(x, name):
    return BatchNorm(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)(x)


def stem(x, width):
    x = conv2d(x, width, 7, strides=2, use_bias=True, name="conv1_conv")
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)  # zeros, not -inf: the conv output is not activated
    return keras.layers.MaxPooling2D(3, 2, name="pool1_pool")(x)


def block(x, filters, stride, conv_shortcut, name, drop_path_rate=0.0):
    preact = relu(batch_norm(x, f"{name}_preact_bn"), f"{name}_preact_relu")
    if conv_shortcut:
        shortcut = conv2d(preact, EXPANSION * filters, 1, strides=stride, use_bias=True, name=f"{name}_0_conv")
    elif stride > 1:
        shortcut = keras.layers.MaxPooling2D(1, stride, name=f"{name}_shortcut")(x)
    else:
        shortcut = x
    y = conv2d(preact, filters, 1, name=f"{name}_1_conv")
    y = relu(batch_norm(y, f"{name}_1_bn"), f"{name}_1_relu")
    y = conv2d(y, filters, 3, strides=stride, name=f"{name}_2_conv")
    y = relu(batch_norm(y, f"{name}_2_bn"), f"{name}_2_relu")
    # Zero start, as our other pre-activation blocks: a random-init un-normalised residual stream overflows
    # float16 from ~30 blocks on (see residual/blocks/preact.py). Loaded weights replace it.
    y = conv2d(y, EXPANSION * filters, 1, use_bias=True, name=f"{name}_3_conv", kernel_initializer="zeros")
    y = drop_path(y, drop_path_rate, f"{name}_drop_path")
    return keras.layers.Add(name=f"{name}_out")([shortcut, y])  # shortcut first: see residual_sum


def build_trunk(x, spec, drop_path_rate):
    """Stem, stages, final norm; returns the output and the last map at each stride ("stride4" ... "stride32")."""
    x = stem(x, spec.stem_width)
    stride, total, index = 4, spec.num_blocks(), 0
    features = {f"stride{stride}": x}
    for stage, (depth, filters, last_stride) in enumerate(zip(spec.depths, spec.widths, spec.strides)):
        for number in range(1, depth + 1):
            block_stride = last_stride if number == depth else 1
            rate = drop_path_rate * index / max(total - 1, 1)  # linear over all blocks (timm / Huang et al.)
            x = block(x, filters, block_stride, number == 1, f"conv{stage + 2}_block{number}", rate)
            index += 1
            stride *= block_stride
            features[f"stride{stride}"] = x
    x = relu(batch_norm(x, "post_bn"), "post_relu")
    features[f"stride{stride}"] = x
    return x, features
