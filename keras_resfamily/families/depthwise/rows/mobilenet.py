"""MobileNet V1, V2 and V3 rows (timm `mobilenetv1_*`, `mobilenetv2_*`, `mobilenetv3_*`, `tf_mobilenetv3_*`)."""

from keras_resfamily.families.depthwise.spec import DepthwiseSpec
from keras_resfamily.specs import register_model

MOBILENET_V1 = "Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications, 2017"
MOBILENET_V2 = "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, 2018"
MOBILENET_V3 = "Howard et al., Searching for MobileNetV3, 2019"
HALF = (0.5, 0.5, 0.5)
TF_PORT = dict(padding="tf", bn_epsilon=1e-3)

# MobileNetV1: 13 depthwise-separable blocks, each with an activation after its pointwise conv.
V1_ARCH = (
    ("dsa_r1_k3_s1_c64",),
    ("dsa_r2_k3_s2_c128",),
    ("dsa_r2_k3_s2_c256",),
    ("dsa_r6_k3_s2_c512",),
    ("dsa_r2_k3_s2_c1024",),
)
# name: (width, head conv, timm reference, params in the paper's Table 6 (millions))
V1_ROWS = {
    "MobileNet": (1.0, False, "mobilenetv1_100", None),
    "MobileNet_100H": (1.0, True, "mobilenetv1_100h", None),
    "MobileNet_125": (1.25, False, "mobilenetv1_125", None),
    # No timm reference: keras.applications.MobileNet(alpha=...) has the same trainable weights.
    "MobileNet_025": (0.25, False, None, 0.5),
    "MobileNet_050": (0.5, False, None, 1.3),
    "MobileNet_075": (0.75, False, None, 2.6),
}
for _name, (_width, _head, _reference, _params) in V1_ROWS.items():
    register_model(DepthwiseSpec(
        name=_name, family="MobileNet", reference=_reference, paper=MOBILENET_V1 + ", Table 6",
        arch=V1_ARCH, width=_width, act="relu6", head="conv_bn" if _head else "none", head_width=1024,
        head_scaling="at_least", mean=HALF, std=HALF, paper_params_millions=_params,
    ))

V2_ARCH = (
    ("ds_r1_k3_s1_c16",),
    ("ir_r2_k3_s2_e6_c24",),
    ("ir_r3_k3_s2_e6_c32",),
    ("ir_r4_k3_s2_e6_c64",),
    ("ir_r3_k3_s1_e6_c96",),
    ("ir_r3_k3_s2_e6_c160",),
    ("ir_r1_k3_s1_e6_c320",),
)
# suffix: (width, depth); the "d" rows keep the stem, head and first / last stage depths unscaled.
V2_ROWS = {"": (1.0, 1.0), "_035": (0.35, 1.0), "_050": (0.5, 1.0), "_075": (0.75, 1.0), "_110D": (1.1, 1.2),
           "_120D": (1.2, 1.4), "_140": (1.4, 1.0)}
for _suffix, (_width, _depth) in V2_ROWS.items():
    _fixed = _suffix.endswith("D")
    register_model(DepthwiseSpec(
        name=f"MobileNetV2{_suffix}", family="MobileNetV2",
        reference=f"mobilenetv2_{_suffix[1:].lower() or '100'}", paper=MOBILENET_V2,
        arch=V2_ARCH, width=_width, depth=_depth, fix_first_last=_fixed, fix_stem=_fixed, act="relu6",
        head_width=1280, head_scaling="fixed" if _fixed else "at_least",
    ))

V3_LARGE = (
    ("ds_r1_k3_s1_e1_c16_nre",),
    ("ir_r1_k3_s2_e4_c24_nre", "ir_r1_k3_s1_e3_c24_nre"),
    ("ir_r3_k5_s2_e3_c40_se0.25_nre",),
    ("ir_r1_k3_s2_e6_c80", "ir_r1_k3_s1_e2.5_c80", "ir_r2_k3_s1_e2.3_c80"),
    ("ir_r2_k3_s1_e6_c112_se0.25",),
    ("ir_r3_k5_s2_e6_c160_se0.25",),
    ("cn_r1_k1_s1_c960",),
)
V3_LARGE_MINIMAL = (
    ("ds_r1_k3_s1_e1_c16",),
    ("ir_r1_k3_s2_e4_c24", "ir_r1_k3_s1_e3_c24"),
    ("ir_r3_k3_s2_e3_c40",),
    ("ir_r1_k3_s2_e6_c80", "ir_r1_k3_s1_e2.5_c80", "ir_r2_k3_s1_e2.3_c80"),
    ("ir_r2_k3_s1_e6_c112",),
    ("ir_r3_k3_s2_e6_c160",),
    ("cn_r1_k1_s1_c960",),
)
V3_SMALL = (
    ("ds_r1_k3_s2_e1_c16_se0.25_nre",),
    ("ir_r1_k3_s2_e4.5_c24_nre", "ir_r1_k3_s1_e3.67_c24_nre"),
    ("ir_r1_k5_s2_e4_c40_se0.25", "ir_r2_k5_s1_e6_c40_se0.25"),
    ("ir_r2_k5_s1_e3_c48_se0.25",),
    ("ir_r3_k5_s2_e6_c96_se0.25",),
    ("cn_r1_k1_s1_c576",),
)
V3_SMALL_MINIMAL = (
    ("ds_r1_k3_s2_e1_c16",),
    ("ir_r1_k3_s2_e4.5_c24", "ir_r1_k3_s1_e3.67_c24"),
    ("ir_r1_k3_s2_e4_c40", "ir_r2_k3_s1_e6_c40"),
    ("ir_r2_k3_s1_e3_c48",),
    ("ir_r3_k3_s2_e6_c96",),
    ("cn_r1_k1_s1_c576",),
)
# name: (arch, head width, width, minimal (ReLU, no SE), TF port, timm reference)
V3_ROWS = {
    # keras.applications' MobileNetV3 is the TF model ("same" padding, BN eps 1e-3): timm's tf_ ports.
    "MobileNetV3Large": (V3_LARGE, 1280, 1.0, False, True, "tf_mobilenetv3_large_100"),
    "MobileNetV3Large_075": (V3_LARGE, 1280, 0.75, False, True, "tf_mobilenetv3_large_075"),
    "MobileNetV3LargeMinimal": (V3_LARGE_MINIMAL, 1280, 1.0, True, True, "tf_mobilenetv3_large_minimal_100"),
    "MobileNetV3Small": (V3_SMALL, 1024, 1.0, False, True, "tf_mobilenetv3_small_100"),
    "MobileNetV3Small_075": (V3_SMALL, 1024, 0.75, False, True, "tf_mobilenetv3_small_075"),
    "MobileNetV3SmallMinimal": (V3_SMALL_MINIMAL, 1024, 1.0, True, True, "tf_mobilenetv3_small_minimal_100"),
    # timm's PyTorch-trained models (symmetric padding, BN eps 1e-5).
    "TimmMobileNetV3Large_075": (V3_LARGE, 1280, 0.75, False, False, "mobilenetv3_large_075"),
    "TimmMobileNetV3Large": (V3_LARGE, 1280, 1.0, False, False, "mobilenetv3_large_100"),
    "TimmMobileNetV3Small_050": (V3_SMALL, 1024, 0.5, False, False, "mobilenetv3_small_050"),
    "TimmMobileNetV3Small_075": (V3_SMALL, 1024, 0.75, False, False, "mobilenetv3_small_075"),
    "TimmMobileNetV3Small": (V3_SMALL, 1024, 1.0, False, False, "mobilenetv3_small_100"),
}
for _name, (_arch, _head, _width, _minimal, _tf, _reference) in V3_ROWS.items():
    register_model(DepthwiseSpec(
        name=_name, family="MobileNetV3", reference=_reference, paper=MOBILENET_V3,
        arch=_arch, width=_width, stem_width=16, fix_stem=_width < 0.75, head="pre_logits", head_width=_head,
        head_scaling="fixed", act="relu" if _minimal else "hard_swish", se="mobilenetv3",
        **(dict(TF_PORT, mean=HALF, std=HALF) if _tf else {}),
    ))
