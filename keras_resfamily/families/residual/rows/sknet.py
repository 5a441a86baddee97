"""Selective Kernel network rows (Li et al., 2019; timm's skresnet variants)."""

from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import register_model

SKNET = "Li et al., Selective Kernel Networks, 2019"
RESNET50_DEPTHS = (3, 4, 6, 3)
# timm's ResNet-style SK models split the input channels between the two paths (fewer parameters).
SPLIT_INPUT_18_34 = (("split_input", True), ("rd_ratio", 1 / 8), ("rd_divisor", 16))

register_model(ResidualSpec(name="SKResNet18", family="SKNet", block="sk_basic", depths=(2, 2, 2, 2),
                         block_args=SPLIT_INPUT_18_34, reference="skresnet18", paper=SKNET))
register_model(ResidualSpec(name="SKResNet34", family="SKNet", block="sk_basic", depths=(3, 4, 6, 3),
                         block_args=SPLIT_INPUT_18_34, reference="skresnet34", paper=SKNET))
register_model(ResidualSpec(name="SKResNet50", family="SKNet", block="sk_bottleneck", depths=RESNET50_DEPTHS,
                         block_args=(("split_input", True),), reference="skresnet50", paper=SKNET))
register_model(ResidualSpec(name="SKResNet50D", family="SKNet", block="sk_bottleneck", depths=RESNET50_DEPTHS,
                         stem="deep", stem_width=32, avg_down=True, block_args=(("split_input", True),),
                         reference="skresnet50d", paper=SKNET))
register_model(ResidualSpec(name="SKResNeXt50_32x4d", family="SKNet", block="sk_bottleneck",
                         depths=RESNET50_DEPTHS, cardinality=32, base_width=4,
                         block_args=(("split_input", False), ("rd_ratio", 1 / 16), ("rd_divisor", 32)),
                         reference="skresnext50_32x4d", paper=SKNET))
# SKNet-50 as specified in the paper (Table 1): ResNeXt-50 32x4d whose 3x3 convs are SK units with
# M=2 paths (3x3 and dilated 3x3 for 5x5) seeing the whole input, G=32, and fuse width
# d = max(C / r, L) with r=16, L=32. Its layer names equal timm's skresnext50_32x4d.
register_model(ResidualSpec(name="SKNet50", family="SKNet", block="sk_bottleneck", depths=RESNET50_DEPTHS,
                         cardinality=32, base_width=4,
                         block_args=(("kernel_size", (3, 5)), ("split_input", False), ("rd_ratio", 1 / 16),
                                     ("min_rd_channels", 32)),
                         paper=SKNET + ", Table 1 (SKNet-50)", paper_params_millions=27.5))
