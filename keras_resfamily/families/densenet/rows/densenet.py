"""DenseNet-121/161/169/201 (timm `densenet121` ..., which are torchvision's `densenet121` ...) and
timm's DenseNet-264d (deep stem).

timm's DenseNet is a copy of torchvision's: the same modules under the same state_dict names
(timm's BatchNormAct2d is torchvision's BatchNorm2d + ReLU, holding the same tensors), the same
epsilon, padding and floor-mode pools, so each timm row also computes the torchvision model of its
name and loads its state_dict (tests/test_densenet_family.py checks both). timm's `tv_in1k` weights
are torchvision's.
"""

from keras_resfamily.families.densenet.spec import DenseNetSpec
from keras_resfamily.specs import register_model

DENSENET = "Huang et al., Densely Connected Convolutional Networks, 2017"

ROWS = {  # name: (growth rate, block config, stem)
    "DenseNet121": (32, (6, 12, 24, 16), "7x7"),
    "DenseNet161": (48, (6, 12, 36, 24), "7x7"),
    "DenseNet169": (32, (6, 12, 32, 32), "7x7"),
    "DenseNet201": (32, (6, 12, 48, 32), "7x7"),
    # timm's DenseNet-264 with a deep stem; timm publishes no weights for it ("untrained").
    "DenseNet264d": (48, (6, 12, 64, 48), "deep"),
}
for _name, (_growth, _blocks, _stem) in ROWS.items():
    register_model(DenseNetSpec(
        name=_name, family="DenseNet", reference=_name.lower(), paper=DENSENET,
        growth_rate=_growth, block_config=_blocks, stem=_stem,
    ))
