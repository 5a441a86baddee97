"""The family's trunk builder: the layout's modules in order, tapped for the feature maps and the
auxiliary heads' inputs; GoogLeNet's input transform before them."""

import keras

from keras_resfamily.families.inception import ops
from keras_resfamily.specs import IMAGENET_MEAN, IMAGENET_STD


def transform_input(x):
    """torchvision GoogLeNet's `transform_input`: an ImageNet-normalised RGB image -> (x - 0.5) / 0.5 of
    the same pixels, the normalisation its published weights were trained with."""
    return keras.layers.Rescaling(scale=[s / 0.5 for s in IMAGENET_STD],
                                  offset=[(m - 0.5) / 0.5 for m in IMAGENET_MEAN], name="transform_input")(x)


def build_trunk(x, spec, drop_path_rate):
    """The trunk's output and its taps: {"strideN": map} and the auxiliary heads' inputs by head name."""
    layout = spec.layout
    if spec.transform_input and x.shape[-1] == 3:  # it re-normalises RGB: other inputs pass as they are
        x = transform_input(x)
    taps = {}
    for key, module in layout.features + layout.aux_inputs:
        taps.setdefault(module, []).append(key)
    residual = [name for name, op in layout.modules if isinstance(op, ops.Residual)]
    last = max(len(residual) - 1, 1)
    features = {}
    for name, op in layout.modules:
        # Drop path on the residual branches, rising linearly to `drop_path_rate` at the last one.
        rate = drop_path_rate * residual.index(name) / last if name in residual else 0.0
        x = ops.build(x, op, name, ops.Context(bn_epsilon=spec.bn_epsilon, drop_path_rate=rate))
        for key in taps.get(name, ()):
            features[key] = x
    return x, features
