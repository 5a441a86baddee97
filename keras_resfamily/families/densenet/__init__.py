"""The densenet family: DenseNet-121/161/169/201 (timm = torchvision) and timm's DenseNet-264d, with
optional gradient checkpointing (`remat=True`).

spec.py: the row type (`DenseNetSpec`: growth rate, layers per block, stem, `remat`); builder.py:
the trunk under the reference's `features.*` names; rows/: the registered models. The dense layer
itself, and what `remat` stores and recomputes, is `keras_resfamily.layers.DenseNetLayer`.
"""

from keras_resfamily.families.densenet import rows  # noqa: F401  (registers the rows)
