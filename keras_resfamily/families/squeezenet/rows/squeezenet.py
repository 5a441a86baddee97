"""SqueezeNet 1.0 and 1.1 (torchvision `squeezenet1_0`, `squeezenet1_1`)."""

from keras_resfamily.families.squeezenet.builder import POOL
from keras_resfamily.families.squeezenet.spec import SqueezeNetSpec
from keras_resfamily.specs import register_model

SQUEEZENET = "Iandola et al., SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size, 2016"

# 1.1 (the official repo's) pools earlier and has a smaller stem: ~2.4x less computation, same accuracy.
ROWS = {  # name: (stem width, stem kernel, layers, torchvision's min_size)
    "SqueezeNet1_0": (96, 7, (POOL, (16, 64), (16, 64), (32, 128), POOL, (32, 128), (48, 192), (48, 192), (64, 256),
                              POOL, (64, 256)), 21),
    "SqueezeNet1_1": (64, 3, (POOL, (16, 64), (16, 64), POOL, (32, 128), (32, 128), POOL, (48, 192), (48, 192),
                              (64, 256), (64, 256)), 17),
}
for _name, (_width, _kernel, _layers, _min_size) in ROWS.items():
    register_model(SqueezeNetSpec(
        name=_name, family="SqueezeNet", reference=_name.lower(), reference_source="torchvision", paper=SQUEEZENET,
        min_size=_min_size, stem_width=_width, stem_kernel=_kernel, layers=_layers,
    ))
