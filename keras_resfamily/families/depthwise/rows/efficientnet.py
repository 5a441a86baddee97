"""EfficientNet B0-B7 rows: the TF ports (timm `tf_efficientnet_b*`, what keras.applications'
EfficientNetB* compute) and timm's PyTorch-trained `efficientnet_b*`."""

from keras_resfamily.families.depthwise.spec import DepthwiseSpec
from keras_resfamily.specs import register_model

EFFICIENTNET = "Tan & Le, EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks, 2019"

B0_ARCH = (
    ("ds_r1_k3_s1_e1_c16_se0.25",),
    ("ir_r2_k3_s2_e6_c24_se0.25",),
    ("ir_r2_k5_s2_e6_c40_se0.25",),
    ("ir_r3_k3_s2_e6_c80_se0.25",),
    ("ir_r3_k5_s1_e6_c112_se0.25",),
    ("ir_r4_k5_s2_e6_c192_se0.25",),
    ("ir_r1_k3_s1_e6_c320_se0.25",),
)
# Compound scaling (the paper's / TF reference's table): variant -> (width, depth, resolution, dropout).
SCALING = {
    "B0": (1.0, 1.0, 224, 0.2),
    "B1": (1.0, 1.1, 240, 0.2),
    "B2": (1.1, 1.2, 260, 0.3),
    "B3": (1.2, 1.4, 300, 0.3),
    "B4": (1.4, 1.8, 380, 0.4),
    "B5": (1.6, 2.2, 456, 0.4),
    "B6": (1.8, 2.6, 528, 0.5),
    "B7": (2.0, 3.1, 600, 0.5),
}
# timm's own weights were trained / are served at other sizes and normalisations.
TIMM_CONFIG = {
    "B1": dict(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    "B2": dict(default_size=256),
    "B3": dict(default_size=288),
    "B4": dict(default_size=320),
    "B5": dict(default_size=448),
}

for _variant, (_width, _depth, _size, _dropout) in SCALING.items():
    _common = dict(family="EfficientNet", paper=EFFICIENTNET, arch=B0_ARCH, width=_width, depth=_depth,
                   default_size=_size, act="swish", head_width=1280, recipe_dropout=_dropout)
    register_model(DepthwiseSpec(name=f"EfficientNet{_variant}", reference=f"tf_efficientnet_{_variant.lower()}",
                                 padding="tf", bn_epsilon=1e-3, **_common))
    register_model(DepthwiseSpec(name=f"TimmEfficientNet{_variant}", reference=f"efficientnet_{_variant.lower()}",
                                 **dict(_common, **TIMM_CONFIG.get(_variant, {}))))
