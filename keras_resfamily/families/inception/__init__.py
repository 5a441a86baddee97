"""The inception family: GoogLeNet (torchvision's), Inception-V3, Inception-V4 and Inception-ResNet-V2
(timm's), each row equal to its reference.

spec.py: the row type (`InceptionSpec`: a layout plus the reference's head and input options);
ops.py: the notation of the layouts (conv-BN-ReLU, PyTorch pools, Inception and Inception-ResNet
blocks) and their Keras layers; layouts.py: the four nets, module by module under the reference's
names; builder.py: the trunk; aux.py: the auxiliary classifiers; rows/: the registered models.
"""

from keras_resfamily.families.inception import rows  # noqa: F401  (registers the rows)
