"""Res2Net / Res2NeXt rows (Gao et al., 2019): bottlenecks with hierarchical multi-scale 3x3 convs."""

from keras_resfamily.families.residual.spec import ResidualSpec
from keras_resfamily.specs import register_model

RES2NET = "Gao et al., Res2Net: A New Multi-scale Backbone Architecture, 2019"
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}

# "{base_width}w_{scale}s": each of the `scale` splits is base_width * planes / 64 channels wide.
for _depth, _width, _scale in ((50, 26, 4), (50, 26, 6), (50, 26, 8), (50, 48, 2), (50, 14, 8), (101, 26, 4)):
    register_model(ResidualSpec(
        name=f"Res2Net{_depth}_{_width}w_{_scale}s", family="Res2Net", block="res2net", depths=DEPTHS[_depth],
        base_width=_width, block_args=(("scale", _scale),), reference=f"res2net{_depth}_{_width}w_{_scale}s",
        paper=RES2NET))
register_model(ResidualSpec(
    name="Res2NeXt50", family="Res2NeXt", block="res2net", depths=DEPTHS[50], cardinality=8, base_width=4,
    block_args=(("scale", 4),), reference="res2next50", paper=RES2NET))
for _depth in (50, 101):
    register_model(ResidualSpec(
        name=f"Res2Net{_depth}D", family="Res2Net", block="res2net", depths=DEPTHS[_depth], base_width=26,
        stem="deep", stem_width=32, avg_down=True, block_args=(("scale", 4),), reference=f"res2net{_depth}d",
        paper=RES2NET))
