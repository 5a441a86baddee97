"""The four nets as layouts: their modules in forward order, in the notation of `ops.py`, named as the reference.

GOOGLENET is torchvision's `googlenet`; INCEPTION_V3, INCEPTION_V4 and INCEPTION_RESNET_V2 are timm's
`inception_v3` (torchvision's `Inception3` under the same names), `inception_v4` and `inception_resnet_v2`.
Convolutions are padded as in the reference: `padded` keeps the size (PyTorch padding kernel // 2),
`valid` has none.
"""

import dataclasses
from typing import Tuple

from keras_resfamily.families.inception.ops import AvgPool, Conv, Fork, MaxPool, Mixed, Residual, sequential


@dataclasses.dataclass(frozen=True)
class Layout:
    """A net's trunk and where its feature maps and auxiliary heads tap it.

    Attributes:
        modules: (reference name, op) of the top-level modules, in forward order.
        features: ("strideN", module): the last map at each nominal reduction (valid-padded nets are
            a few pixels smaller than size / N).
        aux_inputs: (auxiliary head, module it classifies), in the order the reference returns them.
        aux_head: the auxiliary head's design ("googlenet" or "inception_v3"; `aux.py`), "" for none.
    """

    modules: Tuple[Tuple[str, object], ...]
    features: Tuple[Tuple[str, str], ...]
    aux_inputs: Tuple[Tuple[str, str], ...] = ()
    aux_head: str = ""


def valid(filters, kernel=1, stride=1):
    return Conv(filters, kernel, stride)


def padded(filters, kernel):
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    return Conv(filters, kernel, padding=(kernel[0] // 2, kernel[1] // 2))


def branch(name, op):
    """A branch that is a single module."""
    return ((name, op),)


# GoogLeNet --------------------------------------------------------------------------------------
CEIL_POOL = MaxPool(3, 2, ceil_mode=True)


def _googlenet_block(ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    return Mixed((
        branch("branch1", valid(ch1x1)),
        sequential("branch2", valid(ch3x3red), padded(ch3x3, 3)),
        # The paper's 5x5 branch is a 3x3 conv in torchvision's model and in its published weights
        # (pytorch/vision#906): here too, so that they load.
        sequential("branch3", valid(ch5x5red), padded(ch5x5, 3)),
        sequential("branch4", MaxPool(3, 1, padding=1, ceil_mode=True), valid(pool_proj)),
    ))


GOOGLENET = Layout(
    modules=(
        ("conv1", Conv(64, 7, 2, 3)),
        ("maxpool1", CEIL_POOL),
        ("conv2", valid(64)),
        ("conv3", padded(192, 3)),
        ("maxpool2", CEIL_POOL),
        ("inception3a", _googlenet_block(64, 96, 128, 16, 32, 32)),
        ("inception3b", _googlenet_block(128, 128, 192, 32, 96, 64)),
        ("maxpool3", CEIL_POOL),
        ("inception4a", _googlenet_block(192, 96, 208, 16, 48, 64)),
        ("inception4b", _googlenet_block(160, 112, 224, 24, 64, 64)),
        ("inception4c", _googlenet_block(128, 128, 256, 24, 64, 64)),
        ("inception4d", _googlenet_block(112, 144, 288, 32, 64, 64)),
        ("inception4e", _googlenet_block(256, 160, 320, 32, 128, 128)),
        ("maxpool4", MaxPool(2, 2, ceil_mode=True)),
        ("inception5a", _googlenet_block(256, 160, 320, 32, 128, 128)),
        ("inception5b", _googlenet_block(384, 192, 384, 48, 128, 128)),
    ),
    features=(("stride2", "conv1"), ("stride4", "conv3"), ("stride8", "inception3b"), ("stride16", "inception4e"),
              ("stride32", "inception5b")),
    aux_inputs=(("aux2", "inception4d"), ("aux1", "inception4a")),
    aux_head="googlenet",
)

# Inception-V3: the branch pools are F.avg_pool2d, counting the padded zeros --------------------
V3_POOL = AvgPool(count_include_pad=True)


def _v3_a(pool_features):
    return Mixed((
        branch("branch1x1", valid(64)),
        (("branch5x5_1", valid(48)), ("branch5x5_2", padded(64, 5))),
        (("branch3x3dbl_1", valid(64)), ("branch3x3dbl_2", padded(96, 3)), ("branch3x3dbl_3", padded(96, 3))),
        (("pool", V3_POOL), ("branch_pool", valid(pool_features))),
    ))


def _v3_b():
    return Mixed((
        branch("branch3x3", valid(384, 3, 2)),
        (("branch3x3dbl_1", valid(64)), ("branch3x3dbl_2", padded(96, 3)), ("branch3x3dbl_3", valid(96, 3, 2))),
        branch("pool", MaxPool(3, 2)),
    ))


def _v3_c(c7):
    return Mixed((
        branch("branch1x1", valid(192)),
        (("branch7x7_1", valid(c7)), ("branch7x7_2", padded(c7, (1, 7))), ("branch7x7_3", padded(192, (7, 1)))),
        (("branch7x7dbl_1", valid(c7)), ("branch7x7dbl_2", padded(c7, (7, 1))), ("branch7x7dbl_3", padded(c7, (1, 7))),
         ("branch7x7dbl_4", padded(c7, (7, 1))), ("branch7x7dbl_5", padded(192, (1, 7)))),
        (("pool", V3_POOL), ("branch_pool", valid(192))),
    ))


def _v3_d():
    return Mixed((
        (("branch3x3_1", valid(192)), ("branch3x3_2", valid(320, 3, 2))),
        (("branch7x7x3_1", valid(192)), ("branch7x7x3_2", padded(192, (1, 7))), ("branch7x7x3_3", padded(192, (7, 1))),
         ("branch7x7x3_4", valid(192, 3, 2))),
        branch("pool", MaxPool(3, 2)),
    ))


def _split_1x3_3x1(prefix, filters):
    """The 1x3 and 3x1 convs both applied to one map, concatenated (`{prefix}a`, `{prefix}b`)."""
    return Fork(((f"{prefix}a", padded(filters, (1, 3))), (f"{prefix}b", padded(filters, (3, 1)))))


def _v3_e():
    return Mixed((
        branch("branch1x1", valid(320)),
        (("branch3x3_1", valid(384)), ("branch3x3", _split_1x3_3x1("branch3x3_2", 384))),
        (("branch3x3dbl_1", valid(448)), ("branch3x3dbl_2", padded(384, 3)),
         ("branch3x3dbl", _split_1x3_3x1("branch3x3dbl_3", 384))),
        (("pool", V3_POOL), ("branch_pool", valid(192))),
    ))


INCEPTION_V3 = Layout(
    modules=(
        ("Conv2d_1a_3x3", valid(32, 3, 2)),
        ("Conv2d_2a_3x3", valid(32, 3)),
        ("Conv2d_2b_3x3", padded(64, 3)),
        ("Pool1", MaxPool(3, 2)),
        ("Conv2d_3b_1x1", valid(80)),
        ("Conv2d_4a_3x3", valid(192, 3)),
        ("Pool2", MaxPool(3, 2)),
        ("Mixed_5b", _v3_a(32)),
        ("Mixed_5c", _v3_a(64)),
        ("Mixed_5d", _v3_a(64)),
        ("Mixed_6a", _v3_b()),
        ("Mixed_6b", _v3_c(128)),
        ("Mixed_6c", _v3_c(160)),
        ("Mixed_6d", _v3_c(160)),
        ("Mixed_6e", _v3_c(192)),
        ("Mixed_7a", _v3_d()),
        ("Mixed_7b", _v3_e()),
        ("Mixed_7c", _v3_e()),
    ),
    features=(("stride2", "Conv2d_2b_3x3"), ("stride4", "Conv2d_4a_3x3"), ("stride8", "Mixed_5d"),
              ("stride16", "Mixed_6e"), ("stride32", "Mixed_7c")),
    aux_inputs=(("AuxLogits", "Mixed_6e"),),
    aux_head="inception_v3",
)

# Inception-V4 and Inception-ResNet-V2: branch pools nn.AvgPool2d(count_include_pad=False) -------
EXCLUDE_PAD_POOL = AvgPool(count_include_pad=False)


def _v4_a():
    return Mixed((
        branch("branch0", valid(96)),
        sequential("branch1", valid(64), padded(96, 3)),
        sequential("branch2", valid(64), padded(96, 3), padded(96, 3)),
        sequential("branch3", EXCLUDE_PAD_POOL, valid(96)),
    ))


def _v4_b():
    return Mixed((
        branch("branch0", valid(384)),
        sequential("branch1", valid(192), padded(224, (1, 7)), padded(256, (7, 1))),
        sequential("branch2", valid(192), padded(192, (7, 1)), padded(224, (1, 7)), padded(224, (7, 1)),
                   padded(256, (1, 7))),
        sequential("branch3", EXCLUDE_PAD_POOL, valid(128)),
    ))


def _v4_c():
    return Mixed((
        branch("branch0", valid(256)),
        (("branch1_0", valid(384)), ("branch1_1", _split_1x3_3x1("branch1_1", 256))),
        (("branch2_0", valid(384)), ("branch2_1", padded(448, (3, 1))), ("branch2_2", padded(512, (1, 3))),
         ("branch2_3", _split_1x3_3x1("branch2_3", 256))),
        sequential("branch3", EXCLUDE_PAD_POOL, valid(256)),
    ))


V4_STEM = (
    valid(32, 3, 2),
    valid(32, 3),
    padded(64, 3),
    Mixed((branch("maxpool", MaxPool(3, 2)), branch("conv", valid(96, 3, 2)))),  # Mixed3a
    Mixed((sequential("branch0", valid(64), valid(96, 3)),  # Mixed4a
           sequential("branch1", valid(64), padded(64, (1, 7)), padded(64, (7, 1)), valid(96, 3)))),
    Mixed((branch("conv", valid(192, 3, 2)), branch("maxpool", MaxPool(3, 2)))),  # Mixed5a
)
V4_REDUCTION_A = Mixed((
    branch("branch0", valid(384, 3, 2)),
    sequential("branch1", valid(192), padded(224, 3), valid(256, 3, 2)),
    branch("branch2", MaxPool(3, 2)),
))
V4_REDUCTION_B = Mixed((
    sequential("branch0", valid(192), valid(192, 3, 2)),
    sequential("branch1", valid(256), padded(256, (1, 7)), padded(320, (7, 1)), valid(320, 3, 2)),
    branch("branch2", MaxPool(3, 2)),
))

INCEPTION_V4 = Layout(
    modules=sequential("features", *V4_STEM, *[_v4_a()] * 4, V4_REDUCTION_A, *[_v4_b()] * 7, V4_REDUCTION_B,
                       *[_v4_c()] * 3),
    # timm's feature_info taps stride 4 at features.3 (Mixed3a); its last map at stride 4 is Mixed4a's.
    features=(("stride2", "features.2"), ("stride4", "features.4"), ("stride8", "features.9"),
              ("stride16", "features.17"), ("stride32", "features.21")),
)


def _block35(scale=0.17):
    return Residual((
        branch("branch0", valid(32)),
        sequential("branch1", valid(32), padded(32, 3)),
        sequential("branch2", valid(32), padded(48, 3), padded(64, 3)),
    ), filters=320, scale=scale)


def _block17(scale=0.10):
    return Residual((
        branch("branch0", valid(192)),
        sequential("branch1", valid(128), padded(160, (1, 7)), padded(192, (7, 1))),
    ), filters=1088, scale=scale)


def _block8(scale=0.20, relu=True):
    return Residual((
        branch("branch0", valid(192)),
        sequential("branch1", valid(192), padded(224, (1, 3)), padded(256, (3, 1))),
    ), filters=2080, scale=scale, relu=relu)


INCEPTION_RESNET_V2 = Layout(
    modules=(
        ("conv2d_1a", valid(32, 3, 2)),
        ("conv2d_2a", valid(32, 3)),
        ("conv2d_2b", padded(64, 3)),
        ("maxpool_3a", MaxPool(3, 2)),
        ("conv2d_3b", valid(80)),
        ("conv2d_4a", valid(192, 3)),
        ("maxpool_5a", MaxPool(3, 2)),
        ("mixed_5b", Mixed((
            branch("branch0", valid(96)),
            sequential("branch1", valid(48), padded(64, 5)),
            sequential("branch2", valid(64), padded(96, 3), padded(96, 3)),
            sequential("branch3", EXCLUDE_PAD_POOL, valid(64)),
        ))),
        *sequential("repeat", *[_block35()] * 10),
        ("mixed_6a", Mixed((
            branch("branch0", valid(384, 3, 2)),
            sequential("branch1", valid(256), padded(256, 3), valid(384, 3, 2)),
            branch("branch2", MaxPool(3, 2)),
        ))),
        *sequential("repeat_1", *[_block17()] * 20),
        ("mixed_7a", Mixed((
            sequential("branch0", valid(256), valid(384, 3, 2)),
            sequential("branch1", valid(256), valid(288, 3, 2)),
            sequential("branch2", valid(256), padded(288, 3), valid(320, 3, 2)),
            branch("branch3", MaxPool(3, 2)),
        ))),
        *sequential("repeat_2", *[_block8()] * 9),
        ("block8", _block8(scale=1.0, relu=False)),  # the last block: unscaled, no ReLU
        ("conv2d_7b", valid(1536)),
    ),
    features=(("stride2", "conv2d_2b"), ("stride4", "conv2d_4a"), ("stride8", "repeat.9"),
              ("stride16", "repeat_1.19"), ("stride32", "conv2d_7b")),
)
