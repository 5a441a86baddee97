"""Network stems by key: the `stem` field of a spec names one of these.

Each takes (inputs, spec) and returns the stem output (stride 4 for ImageNet stems, stride 1 for
CIFAR stems). Names follow the reference module paths (timm `resnet.py` / `resnetv2.py`).
"""

from keras_resfamily.families.residual.blocks.byob import byob_tiered_stem
from keras_resfamily.families.residual.blocks.common import batch_norm, conv2d, relu
from keras_resfamily.families.residual.blocks.repvgg import repvgg_stem
from keras_resfamily.layers import PaddedMaxPooling2D


def _pool(x, spec, name):
    if spec.stem_pool == "max":
        return PaddedMaxPooling2D(3, 2, 1, name=name)(x)
    if spec.stem_pool == "conv":  # ResNet-RS: a stride-2 3x3 conv-BN-ReLU replaces max pooling
        channels = x.shape[-1]
        x = conv2d(x, channels, 3, strides=2, name=f"{name}-0")
        return relu(batch_norm(x, f"{name}-1"), f"{name}-2")
    if spec.stem_pool == "none":
        return x
    raise ValueError(f"Unknown stem_pool {spec.stem_pool!r}; allowed: 'max', 'conv', 'none'")


def conv7_stem(x, spec):
    """7x7 stride-2 conv-BN-ReLU + pool (ResNet v1 / v1.5)."""
    x = conv2d(x, spec.stem_width, 7, strides=2, name="conv1")
    x = relu(batch_norm(x, "bn1"), "act1")
    return _pool(x, spec, "maxpool")


def _deep_stem(x, spec, widths):
    """Three 3x3 convs (ResNet-C/D, "Bag of Tricks"); the last one doubles the stem width."""
    x = conv2d(x, widths[0], 3, strides=2, name="conv1-0")
    x = relu(batch_norm(x, "conv1-1"), "conv1-2")
    x = conv2d(x, widths[1], 3, name="conv1-3")
    x = relu(batch_norm(x, "conv1-4"), "conv1-5")
    x = conv2d(x, spec.stem_width * 2, 3, name="conv1-6")
    x = relu(batch_norm(x, "bn1"), "act1")
    return _pool(x, spec, "maxpool")


def deep_stem(x, spec):
    return _deep_stem(x, spec, (spec.stem_width, spec.stem_width))


def deep_tiered_stem(x, spec):
    return _deep_stem(x, spec, (3 * (spec.stem_width // 4), spec.stem_width))


def cifar_stem(x, spec):
    """3x3 stride-1 conv-BN-ReLU, no pooling (CIFAR ResNeXt)."""
    x = conv2d(x, spec.stem_width, 3, name="conv1")
    return relu(batch_norm(x, "bn1"), "act1")


def conv7_preact_stem(x, spec):
    """Pre-activation stem: 7x7 stride-2 conv then pool with no BN (the first block normalises)."""
    x = conv2d(x, spec.stem_width, 7, strides=2, name="stem-conv")
    return _pool(x, spec, "stem-pool")


def cifar_preact_stem(x, spec):
    """3x3 stride-1 conv with no BN (Wide ResNet on CIFAR)."""
    return conv2d(x, spec.stem_width, 3, name="stem-conv")


STEMS = {
    "conv7": conv7_stem,
    "deep": deep_stem,
    "deep_tiered": deep_tiered_stem,
    "cifar": cifar_stem,
    "conv7_preact": conv7_preact_stem,
    "cifar_preact": cifar_preact_stem,
    "repvgg": repvgg_stem,
    "byob_tiered": byob_tiered_stem,
}
# Stems whose stride does not follow from `stem_pool` (see `stem_stride`).
FIXED_STEM_STRIDES = {"repvgg": 2, "byob_tiered": 4}


def stem_stride(spec):
    """Total stride of the stem (labels the `features_only` outputs)."""
    if spec.stem in FIXED_STEM_STRIDES:
        return FIXED_STEM_STRIDES[spec.stem]
    return 4 if spec.stem_pool != "none" or spec.stem.startswith("conv7") else 1
