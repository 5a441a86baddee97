"""The depthwise family's builder: stem, the planned blocks, the head convolution.

timm's EfficientNet-style head (conv_head + bn2 + act) runs before the global pool and belongs to
the trunk; MobileNetV3's head runs after the pool (`build_pre_logits`: conv_head with bias on the
pooled vector, i.e. a Dense, then act2). The shared head (keras_resfamily/builder.py) pools and
classifies.
"""

import functools

import keras

from keras_resfamily.families.depthwise import blocks
from keras_resfamily.families.depthwise.arch import plan
from keras_resfamily.families.depthwise.naming import NAMINGS
from keras_resfamily.layers.utils import kaiming_fan_out

LAYER_PADDING = {"tf": "same", "symmetric": "symmetric"}
SE_GATES = {"efficientnet": "sigmoid", "mobilenetv3": "hard_sigmoid"}


def _context(spec):
    naming = NAMINGS[spec.naming]
    return blocks.Context(padding=LAYER_PADDING[spec.padding], bn_epsilon=spec.bn_epsilon, se_gate=SE_GATES[spec.se],
                          dw_multiplier=spec.dw_multiplier, se_names=naming.se_names)


def build_trunk(x, spec, drop_path_rate):
    """Stem, blocks and (EfficientNet-style) head conv; returns the output and the last feature map of
    every stride ("stride2" ... "stride32"; the deepest is the map the head pools)."""
    arch = plan(spec)
    naming = NAMINGS[spec.naming]
    ctx = _context(spec)
    x = blocks.conv(x, arch.stem_channels, (3,), naming.stem_conv, ctx, strides=2)
    x = blocks.norm(x, naming.stem_norm, ctx, spec.act)
    stride = 2
    features = {f"stride{stride}": x}
    last = max(len(arch.blocks) - 1, 1)
    for block in arch.blocks:
        # Linearly increasing drop-path rate over all blocks, `drop_path_rate` at the last one.
        rate = drop_path_rate * block.position / last
        names = functools.partial(naming.name, block)
        x = blocks.BLOCKS[block.kind](x, block, ctx, names, rate)
        stride *= block.stride
        features[f"stride{stride}"] = x
    if spec.head == "conv_bn":
        head_conv, head_norm = naming.head_names(arch)
        x = blocks.conv(x, arch.head_channels, (1,), head_conv, ctx)
        x = blocks.norm(x, head_norm, ctx, spec.act)
        features[f"stride{stride}"] = x
    return x, features


def build_pre_logits(x, spec):
    """MobileNetV3's head after the pool: 1x1 conv with bias on the pooled vector (a Dense), activation."""
    if spec.head != "pre_logits":
        return x
    naming = NAMINGS[spec.naming]
    x = keras.layers.Dense(plan(spec).head_channels, kernel_initializer=kaiming_fan_out(), name=naming.head_conv)(x)
    return blocks.activation(x, spec.act, naming.head_act)
