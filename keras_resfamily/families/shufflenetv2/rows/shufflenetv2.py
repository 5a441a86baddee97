"""ShuffleNet V2 at torchvision's four widths (`shufflenet_v2_x0_5` ... `shufflenet_v2_x2_0`).

Each width is a row of its own (its own published weights); a constructor has no width argument.
"""

from keras_resfamily.families.shufflenetv2.spec import ShuffleNetV2Spec
from keras_resfamily.specs import register_model

SHUFFLENET_V2 = "Ma et al., ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design, 2018"

# width: torchvision's `stages_out_channels` (stem, stage2, stage3, stage4, conv5); stages of 4/8/4 units.
WIDTHS = {
    "0_5": (24, 48, 96, 192, 1024),
    "1_0": (24, 116, 232, 464, 1024),
    "1_5": (24, 176, 352, 704, 1024),
    "2_0": (24, 244, 488, 976, 2048),
}
for _width, _channels in WIDTHS.items():
    register_model(ShuffleNetV2Spec(
        name=f"ShuffleNetV2_x{_width}", family="ShuffleNetV2", reference=f"shufflenet_v2_x{_width}",
        reference_source="torchvision", paper=SHUFFLENET_V2, stage_channels=_channels,
    ))
