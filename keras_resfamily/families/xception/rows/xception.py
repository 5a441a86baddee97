"""Xception rows: Chollet's Xception (timm `legacy_xception`, keras.applications' `Xception`) and
DeepLab's aligned Xception-41/65/71 and pre-activation 41p/65p (timm `xception41` ...)."""

from keras_resfamily.families.xception.blocks_table import Block
from keras_resfamily.families.xception.spec import XceptionSpec
from keras_resfamily.specs import register_model

XCEPTION = "Chollet, Xception: Deep Learning with Depthwise Separable Convolutions, 2017"
ALIGNED = "Chen et al., Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation, 2018"
HALF = (0.5, 0.5, 0.5)  # the weights' normalisation (timm's IMAGENET_INCEPTION_MEAN / STD)

LEGACY_BLOCKS = (
    Block((128, 128), stride=2, first_relu=False),
    Block((256, 256), stride=2),
    Block((728, 728), stride=2),
    Block((728, 728, 728), repeats=8),
    Block((728, 1024), stride=2),
    Block((1536, 2048), skip=False),
)
register_model(XceptionSpec(
    name="Xception", family="Xception", reference="legacy_xception", paper=XCEPTION, default_size=299,
    min_size=71, mean=HALF, std=HALF, blocks=LEGACY_BLOCKS, style="legacy", bn_epsilon=1e-5,
))

ENTRY_FLOW = (Block((128,) * 3, stride=2), Block((256,) * 3, stride=2), Block((728,) * 3, stride=2))
# Xception-71's entry flow: a stride-1 block after each of the first two strided blocks.
ENTRY_FLOW_71 = (Block((128,) * 3, stride=2), Block((256,) * 3), Block((256,) * 3, stride=2), Block((728,) * 3),
                 Block((728,) * 3, stride=2))
EXIT_FLOW = (Block((728, 1024, 1024), stride=2), Block((1536, 1536, 2048), skip=False))

# name: (entry flow, middle-flow blocks, style, BN epsilon)
ALIGNED_ROWS = {
    "Xception41": (ENTRY_FLOW, 8, "aligned", 1e-3),
    "Xception65": (ENTRY_FLOW, 16, "aligned", 1e-3),
    "Xception71": (ENTRY_FLOW_71, 16, "aligned", 1e-3),
    "Xception41p": (ENTRY_FLOW, 8, "preact", 1e-5),
    "Xception65p": (ENTRY_FLOW, 16, "preact", 1e-3),
}
for _name, (_entry, _middle, _style, _epsilon) in ALIGNED_ROWS.items():
    register_model(XceptionSpec(
        name=_name, family="Xception", reference=_name.lower(), paper=ALIGNED, default_size=299, mean=HALF,
        std=HALF, blocks=_entry + (Block((728,) * 3, repeats=_middle),) + EXIT_FLOW, style=_style,
        bn_epsilon=_epsilon,
    ))
