"""ShuffleNet V1: the release's g = 3 and g = 8 models at 0.5x-2.0x (megvii-model/ShuffleNet-Series,
ShuffleNetV1/network.py, whose README publishes their parameters and FLOPs), and the paper's g = 1, 2, 4
at 1.0x (Zhang et al. 2017, Table 1; the release builds only g = 3 and 8, with the same units).

No timm or torchvision model: the rows have no reference; tests/test_shufflenet_family.py checks them
against the release's code (tests/reference/shufflenet_v1/).
"""

from keras_resfamily.families.shufflenetv1.spec import ShuffleNetV1Spec
from keras_resfamily.specs import register_model

SHUFFLENET_V1 = ("Zhang et al., ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile "
                 "Devices, 2017")

# (groups, width): (the release's stage_out_channels[1:] (stem, stage 2-4), its README's #Params in millions).
RELEASE = {
    (3, "0_5"): ((12, 120, 240, 480), 0.7),
    (3, "1_0"): ((24, 240, 480, 960), 1.9),
    (3, "1_5"): ((24, 360, 720, 1440), 3.4),
    (3, "2_0"): ((48, 480, 960, 1920), 5.4),
    (8, "0_5"): ((16, 192, 384, 768), 1.0),
    (8, "1_0"): ((24, 384, 768, 1536), 2.4),
    (8, "1_5"): ((24, 576, 1152, 2304), 4.3),
    (8, "2_0"): ((48, 768, 1536, 3072), 6.5),
}
# The paper's Table 1 (1.0x; g = 3 and 8 are the release's rows above). It publishes no parameter counts.
PAPER = {1: (24, 144, 288, 576), 2: (24, 200, 400, 800), 4: (24, 272, 544, 1088)}

_ROWS = {(groups, "1_0"): (channels, None) for groups, channels in PAPER.items()}
_ROWS.update(RELEASE)
for (_groups, _width), (_channels, _params) in sorted(_ROWS.items(), key=lambda item: (item[0][1], item[0][0])):
    register_model(ShuffleNetV1Spec(
        name=f"ShuffleNetV1_g{_groups}_x{_width}", family="ShuffleNetV1", paper=SHUFFLENET_V1,
        paper_params_millions=_params, groups=_groups, width=float(_width.replace("_", ".")),
        stage_channels=_channels,
    ))
