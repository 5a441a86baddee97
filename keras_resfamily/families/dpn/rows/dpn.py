"""Dual Path Networks (timm `dpn48b`, `dpn68`, `dpn68b`, `dpn92`, `dpn98`, `dpn107`, `dpn131`)."""

from keras_resfamily.families.dpn.spec import DPNSpec
from keras_resfamily.specs import IMAGENET_MEAN, IMAGENET_STD, register_model

DPN = "Chen et al., Dual Path Networks, NeurIPS 2017"

# The MXNet weights' normalisation (timm's IMAGENET_DPN_MEAN / _STD): mean pixel (124, 117, 104),
# scale 0.0167 per 0-255 unit.
MXNET_MEAN = (124 / 255, 117 / 255, 104 / 255)
MXNET_STD = (1 / (0.0167 * 255),) * 3

SMALL = dict(stem_kernel=3, stem_width=10, k_r=128, groups=32, width_factor=1)
ROWS = {  # name: (architecture, mean / std of timm's default weights for the row)
    # dpn48b has no published weights (timm: 'untrained', ImageNet normalisation).
    "DPN48b": (dict(SMALL, b=True, depths=(3, 4, 6, 3), increments=(16, 32, 32, 64), act="silu"), "imagenet"),
    "DPN68": (dict(SMALL, depths=(3, 4, 12, 3), increments=(16, 32, 32, 64)), "mxnet"),
    # timm's default dpn68b weights are its own ra_in1k (ImageNet normalisation); mx_in1k is the other tag.
    "DPN68b": (dict(SMALL, b=True, depths=(3, 4, 12, 3), increments=(16, 32, 32, 64)), "imagenet"),
    "DPN92": (dict(stem_kernel=7, stem_width=64, k_r=96, groups=32, width_factor=4, depths=(3, 4, 20, 3),
                   increments=(16, 32, 24, 128)), "mxnet"),
    "DPN98": (dict(stem_kernel=7, stem_width=96, k_r=160, groups=40, width_factor=4, depths=(3, 6, 20, 3),
                   increments=(16, 32, 32, 128)), "mxnet"),
    "DPN107": (dict(stem_kernel=7, stem_width=128, k_r=200, groups=50, width_factor=4, depths=(4, 8, 20, 3),
                    increments=(20, 64, 64, 128)), "mxnet"),
    "DPN131": (dict(stem_kernel=7, stem_width=128, k_r=160, groups=40, width_factor=4, depths=(4, 8, 28, 3),
                    increments=(16, 32, 32, 128)), "mxnet"),
}
NORMALISATION = {"imagenet": (IMAGENET_MEAN, IMAGENET_STD), "mxnet": (MXNET_MEAN, MXNET_STD)}

for _name, (_arguments, _normalisation) in ROWS.items():
    _mean, _std = NORMALISATION[_normalisation]
    register_model(DPNSpec(name=_name, family="DPN", reference=_name.lower(), paper=DPN, mean=_mean, std=_std,
                           **_arguments))
