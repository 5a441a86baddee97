"""The residual family: ResNet and its variants (ResNet-D, ResNeXt, SE/ECA, ResNetV2, ResNet-RS,
Wide ResNet, Res2Net, ResNeSt, SKNet, GCNet, GENet, RepVGG).

spec.py: the row type; builder.py: stem + stages; rows/: the registered models; blocks/, stems.py,
layouts.py, attention.py: the pieces a row names.
"""

from keras_resfamily.families.residual import rows  # noqa: F401  (registers the rows)
