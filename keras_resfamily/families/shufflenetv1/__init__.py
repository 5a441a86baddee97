"""The shufflenetv1 family: ShuffleNet V1 as Megvii's release builds it (groups 3 and 8 at 0.5x-2.0x) and the
paper's groups 1, 2 and 4 at 1.0x. No timm or torchvision model exists; the layer names are the release's
module paths, so its checkpoints load by name (they are saved from `nn.DataParallel`: strip the keys'
"module." prefix first; the release trained on BGR images in [0, 255], not normalised).

spec.py: the row type (`ShuffleNetV1Spec`: groups and a channel table); builder.py: the trunk (grouped
pointwise convs, channel shuffle, depthwise conv, average-pooled shortcut) and the bias-free classifier;
rows/: the registered models.
"""

from keras_resfamily.families.shufflenetv1 import rows  # noqa: F401  (registers the rows)
