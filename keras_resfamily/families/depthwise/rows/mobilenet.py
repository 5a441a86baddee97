"""MobileNet V1, V2 and V3 rows (timm `mobilenetv1_*`, `mobilenetv2_*`, `mobilenetv3_*`, `tf_mobilenetv3_*`)."""

import functools

from keras_resfamily.families.depthwise.spec import DepthwiseSpec
from keras_resfamily.families.depthwise.variants import register_series
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


def mobilenet_v1(name="MobileNet", alpha=1.0, depth_multiplier=1, head_conv=False, reference=None, params=None):
    keras_arguments = () if head_conv else (("alpha", alpha), ("depth_multiplier", depth_multiplier), ("dropout", None))
    return DepthwiseSpec(
        name=name, family="MobileNet", reference=reference, paper=MOBILENET_V1 + ", Table 6", arch=V1_ARCH,
        width=alpha, dw_multiplier=depth_multiplier, act="relu6", head="conv_bn" if head_conv else "none",
        head_width=1024, head_scaling="at_least", mean=HALF, std=HALF, paper_params_millions=params,
        keras_arguments=keras_arguments,
    )


def _unregistered_v1(alpha, depth_multiplier):
    return mobilenet_v1(f"MobileNet_{alpha:g}x{depth_multiplier}".replace(".", "_"), alpha, depth_multiplier)


register_model(mobilenet_v1(reference="mobilenetv1_100"))
register_model(mobilenet_v1("MobileNet_100H", head_conv=True, reference="mobilenetv1_100h"))
register_model(mobilenet_v1("MobileNet_125", alpha=1.25, reference="mobilenetv1_125"))
# No timm reference: keras.applications.MobileNet(alpha=...) has the same trainable weights; the paper's
# Table 6 parameter counts (millions).
for _alpha, _params in ((0.25, 0.5), (0.5, 1.3), (0.75, 2.6)):
    register_model(mobilenet_v1(f"MobileNet_{round(_alpha * 100):03d}", alpha=_alpha, params=_params))
register_series("MobileNet", _unregistered_v1)

V2_ARCH = (
    ("ds_r1_k3_s1_c16",),
    ("ir_r2_k3_s2_e6_c24",),
    ("ir_r3_k3_s2_e6_c32",),
    ("ir_r4_k3_s2_e6_c64",),
    ("ir_r3_k3_s1_e6_c96",),
    ("ir_r3_k3_s2_e6_c160",),
    ("ir_r1_k3_s1_e6_c320",),
)


def mobilenet_v2(name, alpha=1.0, depth=1.0, reference=None):
    fixed = depth != 1.0  # the "d" rows keep the stem, head and first / last stage depths unscaled
    return DepthwiseSpec(
        name=name, family="MobileNetV2", reference=reference, paper=MOBILENET_V2, arch=V2_ARCH, width=alpha,
        depth=depth, fix_first_last=fixed, fix_stem=fixed, act="relu6", head_width=1280,
        head_scaling="fixed" if fixed else "at_least", keras_arguments=() if fixed else (("alpha", alpha),),
    )


# suffix: (width, depth)
V2_ROWS = {"": (1.0, 1.0), "_035": (0.35, 1.0), "_050": (0.5, 1.0), "_075": (0.75, 1.0), "_110D": (1.1, 1.2),
           "_120D": (1.2, 1.4), "_140": (1.4, 1.0)}
for _suffix, (_width, _depth) in V2_ROWS.items():
    register_model(mobilenet_v2(f"MobileNetV2{_suffix}", _width, _depth, f"mobilenetv2_{_suffix[1:].lower() or '100'}"))
register_series("MobileNetV2", lambda alpha: mobilenet_v2(f"MobileNetV2_{alpha:g}".replace(".", "_"), alpha))

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


def mobilenet_v3(name, arch, head, width, minimal, tf_port, reference=None):
    return DepthwiseSpec(
        name=name, family="MobileNetV3Large" if arch in (V3_LARGE, V3_LARGE_MINIMAL) else "MobileNetV3Small",
        reference=reference, paper=MOBILENET_V3,
        arch=arch, width=width, stem_width=16, fix_stem=width < 0.75, head="pre_logits", head_width=head,
        head_scaling="fixed", act="relu" if minimal else "hard_swish", se="mobilenetv3",
        # keras.applications' MobileNetV3Large/Small(alpha, minimalistic) are the TF ports
        keras_arguments=(("alpha", width), ("minimalistic", minimal)) if tf_port else (),
        **(dict(TF_PORT, mean=HALF, std=HALF) if tf_port else {}),
    )


for _name, (_arch, _head, _width, _minimal, _tf, _reference) in V3_ROWS.items():
    register_model(mobilenet_v3(_name, _arch, _head, _width, _minimal, _tf, _reference))


def _unregistered_v3(size, alpha, minimalistic):
    arch = {"Large": (V3_LARGE, V3_LARGE_MINIMAL), "Small": (V3_SMALL, V3_SMALL_MINIMAL)}[size][minimalistic]
    name = f"MobileNetV3{size}{'Minimal' if minimalistic else ''}_{alpha:g}".replace(".", "_")
    return mobilenet_v3(name, arch, 1280 if size == "Large" else 1024, alpha, minimalistic, tf_port=True)


register_series("MobileNetV3Large", functools.partial(_unregistered_v3, "Large"))
register_series("MobileNetV3Small", functools.partial(_unregistered_v3, "Small"))
