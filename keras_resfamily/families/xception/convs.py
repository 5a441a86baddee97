"""Convolution, BatchNorm and ReLU layers with the reference's names, padding and BN settings."""

import keras

from keras_resfamily.layers import StochasticDepth
from keras_resfamily.layers.batch_norm import BatchNorm

BN_MOMENTUM = 0.9  # PyTorch momentum 0.1
# The references' initialisations (loaded weights replace them; they matter for training from
# scratch): timm's legacy_xception, kaiming normal (fan_out, ReLU gain); the aligned models, PyTorch's
# default (kaiming uniform, a = sqrt(5): variance 1 / (3 fan_in)). Both shrink each separable conv's
# output, which keeps a freshly built deep model (whose BNs are identities at inference) within float16.
# Keras counts a depthwise kernel's fan-in as 9 x channels and its fan-out as 9: PyTorch's fan-out and
# fan-in of that kernel, respectively.
INITS = {  # style: {conv kind: (scale, Keras fan mode, distribution)}
    "legacy": {"conv": (2.0, "fan_out", "untruncated_normal"), "depthwise": (2.0, "fan_in", "untruncated_normal")},
    "aligned": {"conv": (1 / 3, "fan_in", "uniform"), "depthwise": (1 / 3, "fan_out", "uniform")},
}
INITS["preact"] = INITS["aligned"]


def _initializer(spec, kind):
    """A new initializer per layer: an unseeded Keras initializer instance draws the same values at
    every call, so a shared one would give same-shaped layers identical kernels."""
    scale, mode, distribution = INITS[spec.style][kind]
    return keras.initializers.VarianceScaling(scale, mode=mode, distribution=distribution)


def _padded(x, kernel, strides, pad, name):
    """PyTorch's symmetric zero padding `pad`: Keras 'same' where it is identical (stride 1,
    pad = (kernel - 1) / 2), else explicit padding and 'valid'."""
    if pad and strides == 1 and 2 * pad == kernel - 1:
        return x, "same"
    if pad:
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}-pad")(x)
    return x, "valid"


def conv(x, filters, kernel, name, spec, strides=1, pad=0):
    x, padding = _padded(x, kernel, strides, pad, name)
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False,
                               kernel_initializer=_initializer(spec, "conv"), name=name)(x)


def depthwise(x, name, spec, strides=1):
    """3x3 depthwise conv with PyTorch's padding 1."""
    x, padding = _padded(x, 3, strides, 1, name)
    return keras.layers.DepthwiseConv2D(3, strides=strides, padding=padding, use_bias=False,
                                        depthwise_initializer=_initializer(spec, "depthwise"), name=name)(x)


def batch_norm(x, name, spec):
    return BatchNorm(momentum=BN_MOMENTUM, epsilon=spec.bn_epsilon, name=name)(x)


def relu(x, name):
    return keras.layers.ReLU(name=name)(x)


def residual(y, shortcut, prefix, drop_path_rate):
    """Drop path on the branch, then the add (shortcut first: Keras' graph walk follows it, graph_walk.py)."""
    if drop_path_rate > 0:
        y = StochasticDepth(drop_path_rate, name=f"{prefix}-drop_path")(y)
    return keras.layers.Add(name=f"{prefix}-add")([shortcut, y])
