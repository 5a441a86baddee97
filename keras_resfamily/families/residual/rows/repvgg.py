"""RepVGG rows (timm byobnet `repvgg_*`); `keras_resfamily.reparameterize` gives the deploy (plain VGG) form."""

from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import register_model

REPVGG = "Ding et al., RepVGG: Making VGG-style ConvNets Great Again, 2021"
A_DEPTHS = (2, 4, 14, 1)
B_DEPTHS = (4, 6, 16, 1)
BASE_WIDTHS = (64, 128, 256, 512)

# name: (depths, per-stage width multipliers, groups of every odd block in a stage)
VARIANTS = {
    "A0": (A_DEPTHS, (0.75, 0.75, 0.75, 2.5), 1),
    "A1": (A_DEPTHS, (1, 1, 1, 2.5), 1),
    "A2": (A_DEPTHS, (1.5, 1.5, 1.5, 2.75), 1),
    "B0": (B_DEPTHS, (1, 1, 1, 2.5), 1),
    "B1": (B_DEPTHS, (2, 2, 2, 4), 1),
    "B1g2": (B_DEPTHS, (2, 2, 2, 4), 2),
    "B1g4": (B_DEPTHS, (2, 2, 2, 4), 4),
    "B2": (B_DEPTHS, (2.5, 2.5, 2.5, 5), 1),
    "B2g4": (B_DEPTHS, (2.5, 2.5, 2.5, 5), 4),
    "B3": (B_DEPTHS, (3, 3, 3, 5), 1),
    "B3g4": (B_DEPTHS, (3, 3, 3, 5), 4),
}
NO_TIMM_REFERENCE = {"B1g2"}  # in the paper (Table 2), not in timm

for _variant, (_depths, _multipliers, _groups) in VARIANTS.items():
    register_model(ResidualSpec(
        name=f"RepVGG_{_variant}", family="RepVGG", block="repvgg", depths=_depths,
        widths=tuple(int(w * m) for w, m in zip(BASE_WIDTHS, _multipliers)), strides=(2, 2, 2, 2),
        block_args=(("groups", _groups),) if _groups > 1 else (),
        stem="repvgg", stem_width=min(64, int(64 * _multipliers[0])), stem_pool="none", layout="byob",
        reference=None if _variant in NO_TIMM_REFERENCE else f"repvgg_{_variant.lower()}",
        paper=REPVGG + ", Table 2",
    ))
