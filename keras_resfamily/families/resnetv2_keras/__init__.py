"""keras.applications' ResNetV2 layout (TF-slim's resnet_v2): ResNet50V2 / 101V2 / 152V2 as keras.applications
computes them, with its layer names, so its published weights load by name.

It differs from timm's `resnetv2_*` (our `ResNet50V2` rows): each stage downsamples in its last block, not its
first, so three blocks per network run at the lower resolution (3.48 against 4.09 GMACs for 50 layers); the
stem conv, the shortcut projections and each block's last conv have a bias; a stage's strided last block
subsamples its identity shortcut (a 1x1 max pool) instead of projecting it; the stem max pool pads with zeros;
BatchNorm uses Keras' epsilon 1.001e-5 and momentum 0.99.

spec.py: the row type (`KerasResNetV2Spec`); builder.py: stem, blocks, final norm; rows/: the registered models.
"""

from keras_resfamily.families.resnetv2_keras import rows  # noqa: F401  (registers the rows)
