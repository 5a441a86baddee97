"""ResNet, ResNet-D, Wide ResNet, ResNeXt, SE/ECA variants, ResNetV2, ResNet-RS and CIFAR rows."""

from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import register_model

HE2016 = "He et al., Deep Residual Learning for Image Recognition, 2016"
HE2016_V2 = "He et al., Identity Mappings in Deep Residual Networks, 2016"
BAG_OF_TRICKS = "He et al., Bag of Tricks for Image Classification with CNNs, 2019"
WRN = "Zagoruyko & Komodakis, Wide Residual Networks, 2016"
RESNEXT = "Xie et al., Aggregated Residual Transformations for Deep Neural Networks, 2017"
SENET = "Hu et al., Squeeze-and-Excitation Networks, 2018"
ECANET = "Wang et al., ECA-Net: Efficient Channel Attention for Deep CNNs, 2020"
RESNET_RS = "Bello et al., Revisiting ResNets: Improved Training and Scaling Strategies, 2021"

BASIC_DEPTHS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
BOTTLENECK_DEPTHS = {
    26: (2, 2, 2, 2), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3),
    270: (4, 29, 53, 4), 350: (4, 36, 72, 4), 420: (4, 44, 87, 4),
}
D_TRICKS = dict(stem="deep", stem_width=32, avg_down=True)
CIFAR10 = dict(mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616), num_classes=10,
               default_size=32, min_size=8, strides=(1, 2, 2))


def _block_and_depths(depth):
    return ("basic", BASIC_DEPTHS[depth]) if depth in BASIC_DEPTHS else ("bottleneck", BOTTLENECK_DEPTHS[depth])


def _row(name, family, depth, reference, paper, **fields):
    block, depths = _block_and_depths(depth)
    return register_model(ResidualSpec(name=name, family=family, block=fields.pop("block", block),
                                    depths=depths, reference=reference, paper=paper, **fields))


for _d in (18, 26, 34, 50, 101, 152, 200):
    _row(f"ResNet{_d}", "ResNet", _d, f"resnet{_d}", HE2016)
for _d in (18, 26, 34, 50, 101, 152, 200):
    _row(f"ResNet{_d}D", "ResNet-D", _d, f"resnet{_d}d", BAG_OF_TRICKS, **D_TRICKS)
for _d in (50, 101):
    _row(f"WideResNet{_d}_2", "Wide ResNet", _d, f"wide_resnet{_d}_2", WRN, base_width=128)

_row("ResNeXt50_32x4d", "ResNeXt", 50, "resnext50_32x4d", RESNEXT, cardinality=32, base_width=4)
_row("ResNeXt50D_32x4d", "ResNeXt", 50, "resnext50d_32x4d", RESNEXT, cardinality=32, base_width=4, **D_TRICKS)
for _c, _w in ((32, 4), (32, 8), (32, 16), (64, 4)):
    _row(f"ResNeXt101_{_c}x{_w}d", "ResNeXt", 101, f"resnext101_{_c}x{_w}d", RESNEXT, cardinality=_c, base_width=_w)

for _d in (18, 34, 50, 101, 152):
    _row(f"SEResNet{_d}", "SE-ResNet", _d, f"seresnet{_d}", SENET, attention="se")
for _d, _c, _w in ((50, 32, 4), (101, 32, 4), (101, 32, 8), (101, 64, 4)):
    _row(f"SEResNeXt{_d}_{_c}x{_w}d", "SE-ResNeXt", _d, f"seresnext{_d}_{_c}x{_w}d", SENET,
         cardinality=_c, base_width=_w, attention="se")
for _d in (50, 101):
    _row(f"ECAResNet{_d}D", "ECA-ResNet", _d, f"ecaresnet{_d}d", ECANET, attention="eca", **D_TRICKS)

for _d in (50, 101, 152):
    _row(f"ResNet{_d}V2", "ResNetV2", _d, f"resnetv2_{_d}", HE2016_V2, block="preact_bottleneck",
         stem="conv7_preact", layout="resnetv2", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
         note=f"keras.applications' ResNet{_d}V2 is another network (TF-slim's layout, stride in each stage's last "
              f"block) with other weights: that one is `KerasResNet{_d}V2`.")

# ResNet-RS: ResNet-D + SE (ratio 1/4) + a stride-2 conv instead of the stem max pool.
for _d, _size in ((50, 160), (101, 192), (152, 256), (200, 256), (270, 256), (350, 288), (420, 320)):
    _row(f"ResNetRS{_d}", "ResNet-RS", _d, f"resnetrs{_d}", RESNET_RS, stem_pool="conv", attention="se",
         attention_args=(("rd_ratio", 0.25),), default_size=_size, **D_TRICKS)

# CIFAR models from the papers (32x32 input, 10 classes); no timm counterpart.
for _c, _params in ((8, 34.4), (16, 68.1)):
    register_model(ResidualSpec(
        name=f"ResNeXt29_{_c}x64d", family="ResNeXt (CIFAR)", block="bottleneck", depths=(3, 3, 3),
        widths=(64, 128, 256), cardinality=_c, base_width=64, stem="cifar", stem_pool="none",
        paper=RESNEXT + ", Table 7", paper_params_millions=_params, **CIFAR10))
register_model(ResidualSpec(
    name="WideResNet28_10", family="Wide ResNet (CIFAR)", block="preact_basic", depths=(4, 4, 4),
    widths=(160, 320, 640), stem="cifar_preact", stem_width=16, stem_pool="none", layout="resnetv2",
    paper=WRN, paper_params_millions=36.5, **CIFAR10))
