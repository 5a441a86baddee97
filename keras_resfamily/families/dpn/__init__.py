"""The dpn family: Dual Path Networks (Chen et al., 2017), timm's `dpn48b` ... `dpn131`.

spec.py: the row type (`DPNSpec`: timm's `DPN` arguments and the `remat` option); builder.py: the
trunk under timm's `features.*` names (one `DualPathBlock` layer per block); rows/: the registered
models.
"""

from keras_resfamily.families.dpn import rows  # noqa: F401  (registers the rows)
