"""The depthwise family: depthwise-separable and inverted-residual networks (MobileNet V1, V2, V3,
EfficientNet B0-B7, MixNet), each row equal to a timm model.

spec.py: the row type (`DepthwiseSpec`: a block-definition table plus width / depth multipliers);
arch.py: decoding the block definitions, channel rounding and depth scaling into resolved blocks;
builder.py: stem + blocks + head conv; blocks.py: the block kinds (ds, dsa, ir, cn) and their conv /
norm / activation / squeeze-excite helpers; naming.py: layer naming tables; rows/: the registered
models (mobilenet.py, efficientnet.py, mixnet.py).
"""

from keras_resfamily.families.depthwise import rows  # noqa: F401  (registers the rows)
