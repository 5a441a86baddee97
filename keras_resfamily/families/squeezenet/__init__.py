"""The squeezenet family: torchvision's SqueezeNet 1.0 and 1.1 (Fire modules, a convolutional classifier).

spec.py: the row type (`SqueezeNetSpec`: stem conv + a table of Fire modules and max pools);
builder.py: the trunk under torchvision's `features.N` names and the convolutional top; rows/: the
registered models.
"""

from keras_resfamily.families.squeezenet import rows  # noqa: F401  (registers the rows)
