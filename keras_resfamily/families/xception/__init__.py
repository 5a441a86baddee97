"""The xception family: Chollet's Xception and DeepLab's aligned Xception (post- and pre-activation),
each row equal to a timm model.

blocks_table.py: the block-definition table's row type (`Block`); spec.py: the row type
(`XceptionSpec`: a block table in one of three styles); builder.py: stem + blocks per style;
legacy.py, aligned.py: the styles' stems and blocks under timm's module names; convs.py: conv / BN /
ReLU layers with PyTorch's padding; rows/: the registered models.
"""

from keras_resfamily.families.xception import rows  # noqa: F401  (registers the rows)
