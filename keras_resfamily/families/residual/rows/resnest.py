"""ResNeSt rows (Zhang et al., 2020): ResNet-D trunk with Split-Attention bottlenecks."""

from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import register_model

RESNEST = "Zhang et al., ResNeSt: Split-Attention Networks, 2020"
# Deep stem + average-pool shortcut; stem width 32 ("d") or 64 ("e", the deeper models).
D_TRUNK = dict(stem="deep", avg_down=True)

# name, depths, stem width, nominal input size, timm name
_MAIN = (
    ("ResNeSt14", (1, 1, 1, 1), 32, 224, "resnest14d"),
    ("ResNeSt26", (2, 2, 2, 2), 32, 224, "resnest26d"),
    ("ResNeSt50", (3, 4, 6, 3), 32, 224, "resnest50d"),
    ("ResNeSt101", (3, 4, 23, 3), 64, 256, "resnest101e"),
    ("ResNeSt200", (3, 24, 36, 3), 64, 320, "resnest200e"),
    ("ResNeSt269", (3, 30, 48, 8), 64, 416, "resnest269e"),
)
for _name, _depths, _stem_width, _size, _reference in _MAIN:
    register_model(ResidualSpec(
        name=_name, family="ResNeSt", block="resnest", depths=_depths, stem_width=_stem_width,
        block_args=(("radix", 2), ("avd", True), ("avd_first", False)), reference=_reference,
        paper=RESNEST, default_size=_size, **D_TRUNK))

# Ablation variants "{radix}s{cardinality}x{width}d" (github.com/zhanghang1989/ResNeSt, ablation.md).
for _radix, _cardinality, _width in ((1, 4, 24), (4, 2, 40)):
    register_model(ResidualSpec(
        name=f"ResNeSt50_{_radix}s{_cardinality}x{_width}d", family="ResNeSt", block="resnest",
        depths=(3, 4, 6, 3), cardinality=_cardinality, base_width=_width, stem_width=32,
        block_args=(("radix", _radix), ("avd", True), ("avd_first", True)),
        reference=f"resnest50d_{_radix}s{_cardinality}x{_width}d", paper=RESNEST, **D_TRUNK))
