"""The dpn family's builder: timm's `features` Sequential under its names ('.' written as '-').

    features-conv1_1: stem conv (3x3 for the small rows, 7x7 otherwise; stride 2, PyTorch padding,
        no bias), BN, activation (the row's `act`: ReLU, or SiLU for dpn48b)
    features-conv1_pool: 3x3 / 2 max pool, padding 1 (-inf pixels: a SiLU stem can be negative)
    features-conv{2..5}_{j}: one `DualPathBlock` layer each (the first of a stage projects its input,
        with stride 2 from conv3 on); the residual slice has `width_factor * 64 * 2**stage` channels,
        the dense slice grows by the stage's `inc` per block
    features-conv5_bn_ac: BN + the row's activation on the concatenated last map

The head (global average pool, then the 1x1-conv classifier written as a Dense named `classifier`)
is the shared one: a 1x1 conv on a pooled 1x1 map is a Dense, and the timm converter reshapes its
(out, in, 1, 1) kernel for it.
"""

import keras

from keras_resfamily.layers import DualPathBlock, PaddedMaxPooling2D
from keras_resfamily.layers.batch_norm import BatchNorm
from keras_resfamily.layers.mixed_depthwise_conv2d import padded_input
from keras_resfamily.layers.utils import kaiming_fan_out

BN_EPSILON = 1e-3  # timm's DPN (the MXNet weights')
BN_MOMENTUM = 0.9  # PyTorch momentum 0.1
STAGE_WIDTHS = (64, 128, 256, 512)


def _bn_act(x, act, name):
    x = BatchNorm(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}-bn")(x)
    return keras.layers.Activation(act, name=f"{name}-bn-act")(x)


def _stem(x, spec):
    kernel = spec.stem_kernel
    x, padding = padded_input(x, kernel, 2, "features-conv1_1")  # PyTorch's kernel // 2 on every side
    x = keras.layers.Conv2D(spec.stem_width, kernel, strides=2, padding=padding, use_bias=False,
                            kernel_initializer=kaiming_fan_out(), name="features-conv1_1-conv")(x)
    return _bn_act(x, spec.act, "features-conv1_1")


def build_trunk(x, spec, drop_path_rate):
    """The trunk and the maps timm's feature_info names: the stem ("stride2"), each stage's last block
    ("stride4" ... "stride16") and, as for the other pre-activation nets, the final BN + activation
    ("stride32", what the head pools). timm's DPN has no drop path: `drop_path_rate` is unused."""
    del drop_path_rate
    x = _stem(x, spec)
    features = {"stride2": x}
    x = PaddedMaxPooling2D(3, 2, padding=1, name="features-conv1_pool")(x)
    stride = 4
    for stage, (depth, inc) in enumerate(zip(spec.depths, spec.increments)):
        width = STAGE_WIDTHS[stage]
        bottleneck = spec.k_r * width // 64
        for block in range(depth):
            block_type = "normal" if block else ("proj" if stage == 0 else "down")
            x = DualPathBlock(bottleneck, bottleneck, width * spec.width_factor, inc, spec.groups, block_type, spec.b,
                              remat=spec.remat, bn_epsilon=BN_EPSILON, bn_momentum=BN_MOMENTUM,
                              name=f"features-conv{stage + 2}_{block + 1}")(x)
        stride *= 2 if stage else 1
        features[f"stride{stride}"] = x
    x = _bn_act(x, spec.act, "features-conv5_bn_ac")
    features[f"stride{stride}"] = x
    return x, features
