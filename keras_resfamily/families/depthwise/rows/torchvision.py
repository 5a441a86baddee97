"""torchvision's MobileNetV2, MobileNetV3 and EfficientNet B0-B7: the architectures of timm's PyTorch
rows under torchvision's module names (so its weights load by name), with its BN epsilon, default
sizes and dropout (which changes no weights)."""

import dataclasses

from keras_resfamily.families.depthwise.rows.efficientnet import SCALING
from keras_resfamily.specs import IMAGENET_MEAN, IMAGENET_STD, get_spec, register_model

# torchvision's EfficientNet crop sizes of its published weights (B0-B4: ported from timm, B5-B7 from
# the TF checkpoints, with TF's BN epsilon).
EFFICIENTNET_SIZES = {"B0": 224, "B1": 240, "B2": 288, "B3": 300, "B4": 380, "B5": 456, "B6": 528, "B7": 600}

# row: (timm row computing the same, torchvision name, what differs)
ROWS = {
    "TorchvisionMobileNetV2": ("MobileNetV2", "mobilenet_v2", dict(naming="torchvision_mobilenet_v2")),
    "TorchvisionMobileNetV3Large": ("TimmMobileNetV3Large", "mobilenet_v3_large",
                                    dict(naming="torchvision_mobilenet_v3", bn_epsilon=1e-3)),
    "TorchvisionMobileNetV3Small": ("TimmMobileNetV3Small", "mobilenet_v3_small",
                                    dict(naming="torchvision_mobilenet_v3", bn_epsilon=1e-3)),
}
for _variant, _size in EFFICIENTNET_SIZES.items():
    ROWS[f"TorchvisionEfficientNet{_variant}"] = (
        f"TimmEfficientNet{_variant}", f"efficientnet_{_variant.lower()}",
        dict(naming="torchvision_efficientnet", bn_epsilon=1e-3 if _variant in ("B5", "B6", "B7") else 1e-5,
             default_size=_size, mean=IMAGENET_MEAN, std=IMAGENET_STD, recipe_dropout=SCALING[_variant][3]))

for _name, (_timm_row, _reference, _changes) in ROWS.items():
    register_model(dataclasses.replace(get_spec(_timm_row), name=_name, reference=_reference,
                                       reference_source="torchvision", keras_arguments=(),
                                       **dict(dict(recipe_dropout=0.2), **_changes)))
