"""MixNet rows (timm `mixnet_*`, `tf_mixnet_*`): mixed depthwise kernels, grouped 1x1 convs."""

from keras_resfamily.families.depthwise.spec import DepthwiseSpec
from keras_resfamily.specs import register_model

MIXNET = "Tan & Le, MixConv: Mixed Depthwise Convolutional Kernels, 2019"

# ReLU in the first two stages, swish (n sw) after.
S_ARCH = (
    ("ds_r1_k3_s1_e1_c16",),
    ("ir_r1_k3_a1.1_p1.1_s2_e6_c24", "ir_r1_k3_a1.1_p1.1_s1_e3_c24"),
    ("ir_r1_k3.5.7_s2_e6_c40_se0.5_nsw", "ir_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw"),
    ("ir_r1_k3.5.7_p1.1_s2_e6_c80_se0.25_nsw", "ir_r2_k3.5_p1.1_s1_e6_c80_se0.25_nsw"),
    ("ir_r1_k3.5.7_a1.1_p1.1_s1_e6_c120_se0.5_nsw", "ir_r2_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw"),
    ("ir_r1_k3.5.7.9.11_s2_e6_c200_se0.5_nsw", "ir_r2_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw"),
)
M_ARCH = (
    ("ds_r1_k3_s1_e1_c24",),
    ("ir_r1_k3.5.7_a1.1_p1.1_s2_e6_c32", "ir_r1_k3_a1.1_p1.1_s1_e3_c32"),
    ("ir_r1_k3.5.7.9_s2_e6_c40_se0.5_nsw", "ir_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw"),
    ("ir_r1_k3.5.7_s2_e6_c80_se0.25_nsw", "ir_r3_k3.5.7.9_a1.1_p1.1_s1_e6_c80_se0.25_nsw"),
    ("ir_r1_k3_s1_e6_c120_se0.5_nsw", "ir_r3_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw"),
    ("ir_r1_k3.5.7.9_s2_e6_c200_se0.5_nsw", "ir_r3_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw"),
)
# variant: (arch, stem width, width, depth); the M layout scales depth by rounding.
VARIANTS = {
    "S": (S_ARCH, 16, 1.0, 1.0),
    "M": (M_ARCH, 24, 1.0, 1.0),
    "L": (M_ARCH, 24, 1.3, 1.0),
    "XL": (M_ARCH, 24, 1.6, 1.2),  # timm's own (not in the paper)
}
TF_PORTS = ("S", "M", "L")

for _variant, (_arch, _stem, _width, _depth) in VARIANTS.items():
    _common = dict(family="MixNet", paper=MIXNET, arch=_arch, stem_width=_stem, width=_width, depth=_depth,
                   depth_trunc="round", head_width=1536, head_scaling="fixed", act="relu")
    register_model(DepthwiseSpec(name=f"MixNet{_variant}", reference=f"mixnet_{_variant.lower()}", **_common))
    if _variant in TF_PORTS:
        register_model(DepthwiseSpec(name=f"TFMixNet{_variant}", reference=f"tf_mixnet_{_variant.lower()}",
                                     padding="tf", bn_epsilon=1e-3, **_common))
