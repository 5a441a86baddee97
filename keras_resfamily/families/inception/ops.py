"""The notation of the family's layouts: each module of a net is one of these ops, named by its reference path.

    Conv      conv (no bias) + BN + ReLU: timm's ConvNormAct, torchvision's BasicConv2d (`.conv`, `.bn`)
    MaxPool   PyTorch max pooling (floor or ceil mode, -inf padding)
    AvgPool   3x3 / 1 average pooling with padding 1, counting the padded zeros or not
    Mixed     branches (each a sequence of named ops) on one input, concatenated: an Inception block
    Fork      named ops on one input, concatenated (InceptionV3's E and V4's C blocks split 1x3 / 3x1)
    Residual  Inception-ResNet: Mixed branches, 1x1 conv with bias, * scale, + input, [ReLU]

A step is (name, op) with the reference's '.' path relative to its parent; `ops.build` turns it into
Keras layers named by the full path with '-' for '.' (the converter's naming).
"""

import dataclasses
from typing import Tuple, Union

import keras

from keras_resfamily.layers import PaddedMaxPooling2D, StochasticDepth
from keras_resfamily.layers.batch_norm import BatchNorm

BN_MOMENTUM = 0.9  # PyTorch momentum 0.1; irrelevant in inference

Size = Union[int, Tuple[int, int]]


@dataclasses.dataclass(frozen=True)
class Conv:
    filters: int
    kernel: Size = 1
    stride: int = 1
    padding: Size = 0  # PyTorch's symmetric padding, per axis


@dataclasses.dataclass(frozen=True)
class MaxPool:
    size: int = 3
    stride: int = 2
    padding: int = 0
    ceil_mode: bool = False


@dataclasses.dataclass(frozen=True)
class AvgPool:
    count_include_pad: bool  # PyTorch F.avg_pool2d's default (True: InceptionV3) or nn.AvgPool2d(..., False)


@dataclasses.dataclass(frozen=True)
class Fork:
    steps: Tuple[Tuple[str, object], ...]


@dataclasses.dataclass(frozen=True)
class Mixed:
    branches: Tuple[Tuple[Tuple[str, object], ...], ...]


@dataclasses.dataclass(frozen=True)
class Residual:
    branches: Tuple[Tuple[Tuple[str, object], ...], ...]
    filters: int
    scale: float
    relu: bool = True


def sequential(parent, *ops):
    """The steps of an `nn.Sequential` named `parent`: children "parent.0", "parent.1", ..."""
    return tuple((f"{parent}.{index}", op) for index, op in enumerate(ops))


@dataclasses.dataclass(frozen=True)
class Context:
    """What building an op needs besides the op: the row's BN epsilon and this block's drop-path rate."""

    bn_epsilon: float
    drop_path_rate: float = 0.0


def layer_name(path):
    return path.replace(".", "-")


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _conv(x, op, path, ctx):
    name = layer_name(path)
    kernel, padding = _pair(op.kernel), _pair(op.padding)
    # Keras' 'same' equals PyTorch's padding where it is kernel // 2 on odd kernels at stride 1.
    if op.stride == 1 and all(k % 2 == 1 and p == k // 2 for k, p in zip(kernel, padding)):
        mode = "same"
    else:
        mode = "valid"
        if any(padding):
            x = keras.layers.ZeroPadding2D(padding, name=f"{name}-pad")(x)
    x = keras.layers.Conv2D(op.filters, kernel, strides=op.stride, padding=mode, use_bias=False,
                            name=f"{name}-conv")(x)
    x = BatchNorm(momentum=BN_MOMENTUM, epsilon=ctx.bn_epsilon, name=f"{name}-bn")(x)
    return keras.layers.Activation("relu", name=f"{name}-act")(x)


def _max_pool(x, op, path, ctx):
    if op.padding or op.ceil_mode:
        return PaddedMaxPooling2D(op.size, op.stride, op.padding, ceil_mode=op.ceil_mode, name=layer_name(path))(x)
    return keras.layers.MaxPooling2D(op.size, op.stride, padding="valid", name=layer_name(path))(x)


def _avg_pool(x, op, path, ctx):
    name = layer_name(path)
    if op.count_include_pad:
        # The padded zeros count in every window's mean (PyTorch's default); Keras' 'same' leaves them out.
        x = keras.layers.ZeroPadding2D(1, name=f"{name}-pad")(x)
        return keras.layers.AveragePooling2D(3, strides=1, padding="valid", name=name)(x)
    # Stride 1, odd window: Keras' 'same' pads 1 on every side and divides by the pixels inside.
    return keras.layers.AveragePooling2D(3, strides=1, padding="same", name=name)(x)


def _concat(tensors, path):
    return keras.layers.Concatenate(axis=-1, name=layer_name(f"{path}.cat"))(list(tensors))


def _steps(x, steps, parent, ctx):
    for name, op in steps:
        x = build(x, op, f"{parent}.{name}", ctx)
    return x


def _fork(x, op, path, ctx):
    parent = path.rpartition(".")[0]  # the forked modules are the block's own children
    return _concat([build(x, step, f"{parent}.{name}", ctx) for name, step in op.steps], path)


def _mixed(x, op, path, ctx):
    return _concat([_steps(x, branch, path, ctx) for branch in op.branches], path)


def _residual(x, op, path, ctx):
    name = layer_name(path)
    y = _concat([_steps(x, branch, path, ctx) for branch in op.branches], path)
    y = keras.layers.Conv2D(op.filters, 1, name=f"{name}-conv2d")(y)
    y = keras.layers.Rescaling(op.scale, name=f"{name}-scale")(y)
    if ctx.drop_path_rate > 0:
        y = StochasticDepth(ctx.drop_path_rate, name=f"{name}-drop_path")(y)
    # Shortcut first: Keras' recursive graph walk then follows the shortcuts (see graph_walk.py).
    y = keras.layers.Add(name=f"{name}-add")([x, y])
    return keras.layers.Activation("relu", name=f"{name}-act")(y) if op.relu else y


def _pooled_size(size, window, stride, padding, ceil_mode):
    """PyTorch's output size of a max pool (and a strided conv: floor mode)."""
    span = size + 2 * padding - window
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    # Ceil mode never starts a window in the right padding.
    return out - 1 if ceil_mode and (out - 1) * stride >= size + padding else out


def output_size(op, size):
    """The reference's output height (= width) of `op` on an input `size` pixels high (wide): the
    arithmetic that `feature_map_size` checks the Keras trunk against. The asymmetric convolutions
    (1x7, 7x1...) are padded to keep the size, so one axis's arithmetic serves both."""
    if isinstance(op, Conv):
        return _pooled_size(size, _pair(op.kernel)[0], op.stride, _pair(op.padding)[0], False)
    if isinstance(op, MaxPool):
        return _pooled_size(size, op.size, op.stride, op.padding, op.ceil_mode)
    if isinstance(op, AvgPool):
        return size  # 3x3 / 1, padding 1
    if isinstance(op, Fork):  # parallel steps on one input: all give the same size
        return output_size(op.steps[0][1], size)
    for _, step in op.branches[0]:  # Mixed / Residual: the branches agree (they are concatenated)
        size = output_size(step, size)
    return size


BUILDERS = {Conv: _conv, MaxPool: _max_pool, AvgPool: _avg_pool, Fork: _fork, Mixed: _mixed, Residual: _residual}


def build(x, op, path, ctx):
    """The Keras layers of `op`, the module at reference path `path` (e.g. "Mixed_5b.branch5x5_1")."""
    return BUILDERS[type(op)](x, op, path, ctx)
