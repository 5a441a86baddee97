"""The shufflenetv2 family: torchvision's ShuffleNet V2 at widths 0.5x, 1.0x, 1.5x and 2.0x.

spec.py: the row type (`ShuffleNetV2Spec`: stage repeats and widths); builder.py: the trunk under
torchvision's module paths (channel split, two branches, concatenation, channel shuffle); rows/:
the registered models.
"""

from keras_resfamily.families.shufflenetv2 import rows  # noqa: F401  (registers the rows)
