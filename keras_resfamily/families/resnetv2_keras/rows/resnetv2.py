"""keras.applications' ResNet50V2 / ResNet101V2 / ResNet152V2 (`keras.applications.resnet_v2`)."""

from keras_resfamily.families.resnetv2_keras.spec import KerasResNetV2Spec
from keras_resfamily.specs import register_model

HE2016_V2 = "He et al., Identity Mappings in Deep Residual Networks, 2016"
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}

for _d, _depths in DEPTHS.items():
    # keras.applications' "tf" preprocessing: pixels scaled to [-1, 1].
    register_model(KerasResNetV2Spec(
        name=f"KerasResNet{_d}V2", family="ResNetV2 (keras.applications)", reference=f"ResNet{_d}V2",
        reference_source="keras.applications", paper=HE2016_V2, depths=_depths, mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5)))
