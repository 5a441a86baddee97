"""Global-context (GCNet) ResNets: timm's byobnet GC-ResNet(X)-T/TS and the paper's GC-ResNet-50."""

from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import register_model

GCNET = "Cao et al., GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond, 2019"
DEPTHS = (3, 4, 6, 3)

# timm: tiered 3-conv stem, GC (add fusion, ratio 1/8) on the 3x3 output of every bottleneck.
register_model(ResidualSpec(
    name="GCResNet50T", family="GC-ResNet", block="byob_bottleneck", depths=DEPTHS, stem="byob_tiered",
    stem_pool="none", attention="gc", layout="byob", reference="gcresnet50t", paper=GCNET, default_size=256,
))
register_model(ResidualSpec(
    name="GCResNeXt50TS", family="GC-ResNeXt", block="byob_bottleneck", depths=DEPTHS, stem="byob_tiered",
    stem_pool="max", attention="gc", block_args=(("act", "silu"), ("group_size", 32)), layout="byob",
    reference="gcresnext50ts", paper=GCNET, default_size=256,
))
# The paper's ImageNet-classification model: ResNet-50 + GC (attention pooling, add fusion, ratio 1/16,
# LayerNorm in the transform) after the last 1x1 conv of every block in stages c3-c5.
register_model(ResidualSpec(
    name="GCResNet50", family="GC-ResNet", block="bottleneck", depths=DEPTHS, attention="gc",
    attention_args=(("rd_ratio", 1 / 16), ("epsilon", 1e-5), ("stages", (1, 2, 3))),
    paper=GCNET, paper_params_millions=28.08,
))
