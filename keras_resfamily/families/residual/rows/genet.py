"""Gather-Excite ResNet-50 (Hu et al., Gather-Excite: Exploiting Feature Context in CNNs, 2018)."""

from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import register_model

GENET = "Hu et al., Gather-Excite: Exploiting Feature Context in CNNs, 2018"

# GE-theta-plus at extent 8: each bottleneck's residual output is gathered by three stride-2
# depthwise 3x3 conv-BN layers, passed through an SE-style MLP (ratio 1/16), upsampled back
# (nearest) and used as a sigmoid gate, in the position of an SE block. Extent 8 rather than the
# global extent keeps the model input-size agnostic (a global parametric gather is a depthwise conv
# as large as the feature map, fixed to one resolution). timm has GatherExcite but no GE-ResNet.
register_model(ResidualSpec(
    name="GEResNet50", family="GE-ResNet", block="bottleneck", depths=(3, 4, 6, 3), attention="ge",
    attention_args=(("extent", 8), ("extra_params", True), ("use_mlp", True)), paper=GENET,
))
