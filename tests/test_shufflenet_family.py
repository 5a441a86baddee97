"""ShuffleNet V1 against Megvii's released code (vendored in tests/reference/shufflenet_v1/), its published
parameters and FLOPs; both families' feature-map arithmetic and argument errors.

ShuffleNet V2 parity with torchvision runs in tests/test_models.py (every row with a reference); the
ShuffleNet V1 rows have none there, so their parity with the release is checked here.
"""

import contextlib
import hashlib
import importlib.util
import io
import pathlib
import sys

import numpy as np
import pytest

import keras_resfamily as kr
from keras_resfamily.bench.macs import count_macs
from keras_resfamily.builder import build_model_and_features
from keras_resfamily.families.shufflenetv1.spec import ShuffleNetV1Spec
from keras_resfamily.families.shufflenetv2.spec import ShuffleNetV2Spec
from keras_resfamily.graph_walk import functional_model
from model_cases import trainable_params

RELEASE = pathlib.Path(__file__).parent / "reference" / "shufflenet_v1"
# `git hash-object` of the vendored files at megvii-model/ShuffleNet-Series aa91feb (README.md there).
RELEASE_BLOBS = {
    "network.py": "c54cb7b175d16202921e123f8afbc47705f1c6a5",
    "blocks.py": "9974df6612b9756d7f3ca036018e28fac70fc6e8",
    "LICENSE": "1beb41c4ee99345c3534ada15cbba69da4126d0b",
}
# Published multiply-adds at 224x224 in millions (convolutions and the classifier), and their precision:
# the release's README for g = 3 and 8 ("FLOPs" there are multiply-adds, printed to 1M), the paper's
# Table 1 "Complexity" for g = 1, 2, 4, which counts ~1% below the release's code for g = 4 and 8.
PUBLISHED_MMACS = {
    "ShuffleNetV1_g1_x1_0": (143, 0.015), "ShuffleNetV1_g2_x1_0": (140, 0.015),
    "ShuffleNetV1_g3_x1_0": (138, 0.005), "ShuffleNetV1_g4_x1_0": (133, 0.015),
    "ShuffleNetV1_g8_x1_0": (138, 0.005),
}
ODD_SIZE = (67, 93)  # odd, non-square: every padding and stride-2 size rule shows here
RNG = np.random.default_rng(0)


def _git_blob(path):
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_vendored_release_is_unmodified():
    """Catches an edit of the reference (parity would then prove nothing about the release)."""
    assert {name: _git_blob(RELEASE / name) for name in RELEASE_BLOBS} == RELEASE_BLOBS


def _load_release():
    """The release's `network` module; its `from blocks import ShuffleV1Block` finds the vendored blocks.py
    through sys.modules["blocks"] for the time of the import only."""
    modules = {}
    saved = sys.modules.get("blocks")
    try:
        for name in ("blocks", "network"):
            module_spec = importlib.util.spec_from_file_location(name, RELEASE / f"{name}.py")
            modules[name] = importlib.util.module_from_spec(module_spec)
            sys.modules["blocks"] = modules["blocks"]
            module_spec.loader.exec_module(modules[name])
    finally:
        if saved is None:
            sys.modules.pop("blocks", None)
        else:
            sys.modules["blocks"] = saved
    return modules["network"], modules["blocks"]


def _release_model(spec):
    """The release's ShuffleNetV1 for `spec`: its own constructor for g = 3 and 8; for the paper's g = 1, 2,
    4 (which network.py does not offer) its g = 3 1.0x network (same 24-channel stem) with the release's
    units and bias-free classifier rebuilt at the paper's widths, exactly as its constructor builds them."""
    import torch

    network, blocks = _load_release()
    size = f"{spec.width:.1f}x"
    with contextlib.redirect_stdout(io.StringIO()):  # the constructor prints the model size
        model = network.ShuffleNetV1(model_size=size, group=spec.groups if spec.groups in (3, 8) else 3)
    if spec.groups not in (3, 8):
        units, inputs = [], spec.stage_channels[0]
        for stage, (repeats, channels) in enumerate(zip(spec.stage_repeats, spec.stage_channels[1:])):
            for i in range(repeats):
                units.append(blocks.ShuffleV1Block(inputs, channels, group=spec.groups, first_group=stage == 0 and i == 0,
                                                   mid_channels=channels // 4, ksize=3, stride=2 if i == 0 else 1))
                inputs = channels
        model.features = torch.nn.Sequential(*units)
        model.classifier = torch.nn.Sequential(torch.nn.Linear(inputs, 1000, bias=False))
        model.stage_out_channels = [-1] + list(spec.stage_channels)
    return model


def _randomized_release_model(spec):
    from timm_reference import _randomized

    return _randomized(lambda: _release_model(spec), seed=1)


def _forward(reference, images):
    from timm_reference import timm_forward

    return timm_forward(reference, images)


def _relative_error(actual, expected):
    return np.max(np.abs(actual - expected)) / np.max(np.abs(expected))


@pytest.mark.parametrize("name", sorted(PUBLISHED_MMACS))
def test_release_parity_params_and_published_macs(name):
    """Random release weights and BN statistics load by name (`load_timm_state_dict`, every tensor, so
    the release's checkpoints are converter-ready); eval outputs equal the release's, float32, max relative
    error <= 1e-4, on an odd non-square input (its `globalpool` is AvgPool2d(7), the global pool of the 7x7
    map of a 224 input only: swapped for the global mean there) and, for g = 3, at 224 with the release's
    own pool; trainable parameters equal; the feature maps have the sizes `feature_map_size` gives; the
    multiply-adds at 224 (TensorFlow graph count) equal the published figure.

    Catches a wrong channel-shuffle order, grouping (stage 2's first 1x1 conv is not grouped), padding,
    shortcut pool, ReLU placement, classifier bias, layer name, or channel table."""
    torch = pytest.importorskip("torch")
    spec = kr.get_spec(name)
    reference = _randomized_release_model(spec)
    model, features = build_model_and_features(name, classifier_activation=None)
    kr.load_timm_state_dict(model, reference.state_dict())
    assert trainable_params(model) == sum(p.numel() for p in reference.parameters() if p.requires_grad)

    if spec.groups == 3:
        images = RNG.normal(size=(1, 224, 224, 3)).astype("float32")
        assert _relative_error(np.asarray(model(images, training=False)), _forward(reference, images)) <= 1e-4
    reference.globalpool = torch.nn.AdaptiveAvgPool2d(1)
    images = RNG.normal(size=(2,) + ODD_SIZE + (3,)).astype("float32")
    maps = functional_model(model.inputs[0], [model.outputs[0], features], "with_features")(images, training=False)
    assert _relative_error(np.asarray(maps[0]), _forward(reference, images)) <= 1e-4
    for key, value in maps[1].items():
        stride = int(key[len("stride"):])
        assert tuple(value.shape[1:3]) == tuple(spec.feature_map_size(s, stride) for s in ODD_SIZE), (key, value.shape)

    published, tolerance = PUBLISHED_MMACS[name]
    macs = count_macs(model, 224) / 1e6
    assert abs(macs - published) <= max(tolerance * published, 0.5), (name, macs, published)


def test_v2_feature_maps_on_odd_non_square_input():
    """`feature_map_size` against the maps themselves on an odd, non-square input (the registry tests use
    even sizes, where ceil and floor agree more often). Catches 'same' padding on a stride-2 conv or pool."""
    spec = kr.get_spec("ShuffleNetV2_x0_5")
    features = kr.create_model(spec.name, features_only=True)(RNG.normal(size=(1,) + ODD_SIZE + (3,)))
    assert sorted(features) == ["stride16", "stride2", "stride32", "stride4", "stride8"]
    for key, value in features.items():
        stride = int(key[len("stride"):])
        assert tuple(value.shape[1:3]) == tuple(spec.feature_map_size(s, stride) for s in ODD_SIZE), (key, value.shape)
    assert [spec.feature_map_size(s, 32) for s in (224, 225, 193, 192, 1)] == [7, 8, 7, 6, 1]


def test_v1_drop_path_schedule():
    """Drop path rises linearly over the 16 units and sits only on the residual (stride-1) units' main
    branch. Catches it silently ignored, or put on a stride-2 unit (whose concat has no residual)."""
    model = kr.create_model("ShuffleNetV1_g3_x0_5", drop_path_rate=0.3, input_shape=(32, 32, 3))
    rates = {layer.name: layer.rate for layer in model.layers if isinstance(layer, kr.layers.StochasticDepth)}
    assert rates == {f"features-{i}-drop_path": pytest.approx(0.3 * i / 15) for i in range(16) if i not in (0, 4, 12)}


def test_width_is_a_row_not_an_argument():
    """ShuffleNet V2's widths are torchvision's four rows; a width argument is refused, naming what was
    received, never silently ignored."""
    assert [s.name for s in kr.specs.all_specs() if isinstance(s, ShuffleNetV2Spec)] == [
        "ShuffleNetV2_x0_5", "ShuffleNetV2_x1_0", "ShuffleNetV2_x1_5", "ShuffleNetV2_x2_0"]
    with pytest.raises(ValueError, match="ShuffleNetV2_x1_0\\(\\) got an unexpected keyword argument 'width_multiplier'"):
        kr.ShuffleNetV2_x1_0(width_multiplier=0.75)


def test_spec_tables_are_checked():
    """Channel tables that cannot be built fail when the row is defined, saying what was received. Catches
    a stage width whose grouped convs or bottleneck do not split into the groups, an odd V2 width."""
    with pytest.raises(ValueError, match=r"stage 2 \(24 -> 250 channels, bottleneck 62\) does not split into 3 groups"):
        ShuffleNetV1Spec(name="Bad", family="ShuffleNetV1", groups=3, stage_channels=(24, 250, 480, 960))
    with pytest.raises(ValueError, match=r"stage widths must be even .* received \(48, 97, 192\)"):
        ShuffleNetV2Spec(name="Bad", family="ShuffleNetV2", stage_channels=(24, 48, 97, 192, 1024))
