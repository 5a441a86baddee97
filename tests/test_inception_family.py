"""The inception family beyond the shared tests: auxiliary classifiers against the references' own aux
modules, PyTorch's average-pool padding rules, GoogLeNet's input transform, minimum input sizes.
Parity of every row (without aux) is in test_models.py."""

import numpy as np
import pytest

import keras
import keras_resfamily as kr
from keras_resfamily.hub.convert import head_prefixes

RNG = np.random.default_rng(0)


def _images(batch, height, width, channels=3):
    return RNG.normal(size=(batch, height, width, channels)).astype("float32")


def _nchw(images):
    import torch

    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def _relative_error(actual, expected):
    return np.max(np.abs(np.asarray(actual) - expected)) / np.max(np.abs(expected))


def _randomized_reference(name, **arguments):
    """The row's reference, built as `arguments` select (e.g. aux_logits=True), with random weights."""
    pytest.importorskip("timm")
    from timm_reference import randomized_reference_model

    spec, _ = kr.get_spec(name).resolve_variant(None, True, **arguments)
    return spec, randomized_reference_model(spec, seed=2)


def _reference(spec):
    """The row's reference with its own initialisation (cheaper than randomising every weight)."""
    timm = pytest.importorskip("timm")
    if spec.reference_source == "timm":
        return timm.create_model(spec.reference, **dict(spec.reference_arguments)).eval()
    import torchvision

    return getattr(torchvision.models, spec.reference)(weights=None, **dict(spec.reference_arguments)).eval()


def test_googlenet_aux_heads_equal_torchvision_aux_modules():
    """[logits, aux2, aux1] in torchvision's GoogLeNetOutputs order. torchvision runs its aux heads in
    training mode only, so they are called here on the eval-mode maps they classify (hooked): exact, with
    no dropout. 80x112 inputs give 5x7 maps: adaptive 4x4 pooling with uneven, overlapping bins."""
    import torch

    spec, reference = _randomized_reference("GoogLeNet", aux_logits=True)
    model = kr.GoogLeNet(aux_logits=True, classifier_activation=None)
    kr.load_timm_state_dict(model, reference.state_dict())
    images = _images(2, 80, 112)
    taps = {}
    reference.inception4a.register_forward_hook(lambda module, args, out: taps.update(aux1=out))
    reference.inception4d.register_forward_hook(lambda module, args, out: taps.update(aux2=out))
    with torch.no_grad():
        expected = [reference(_nchw(images)), reference.aux2(taps["aux2"]), reference.aux1(taps["aux1"])]
    assert tuple(taps["aux1"].shape[2:]) == (5, 7)
    outputs = model(images, training=False)
    assert model.output_names == ["fc", "aux2-fc2", "aux1-fc2"]
    for actual, wanted in zip(outputs, expected):
        assert _relative_error(actual, wanted.numpy()) <= 1e-5
    assert spec.unused_checkpoint_prefixes() == ()
    assert set(kr.get_spec("GoogLeNet").unused_checkpoint_prefixes()) == {"aux1.", "aux2."}


def test_inception_v3_aux_head_equals_timm():
    """timm returns (logits, aux) whenever it has the aux head: compared at 299x299, its smallest input."""
    import torch

    spec, reference = _randomized_reference("InceptionV3", aux_logits=True)
    assert spec.min_size == 299
    model = kr.InceptionV3(aux_logits=True, classifier_activation=None, input_shape=(299, 299, 3))
    kr.load_timm_state_dict(model, reference.state_dict())
    images = _images(1, 299, 299)
    with torch.no_grad():
        expected = reference(_nchw(images))
    outputs = model(images, training=False)
    assert model.output_names == ["fc", "AuxLogits-fc"]
    for actual, wanted in zip(outputs, expected):
        assert _relative_error(actual, wanted.numpy()) <= 1e-4


@pytest.mark.parametrize("name", ["GoogLeNet", "InceptionV3"])
def test_aux_logits_needs_the_top_and_a_bool(name):
    constructor = getattr(kr, name)
    for kwargs in (dict(include_top=False), dict(features_only=True)):
        with pytest.raises(ValueError, match=r"requires `include_top=True`.*Received: aux_logits=True"):
            constructor(aux_logits=True, **kwargs)
    with pytest.raises(ValueError, match=r"`aux_logits` must be True or False. Received: aux_logits='yes'"):
        constructor(aux_logits="yes")
    with pytest.raises(TypeError, match=rf"{name}\(\) got an unexpected keyword argument 'transform'"):
        constructor(transform=True)


def test_inception_v3_aux_min_size():
    with pytest.raises(ValueError, match=r"at least 299x299; Received: input_shape=\(298, 298, 3\)"):
        kr.InceptionV3(aux_logits=True, input_shape=(298, 298, 3))


def test_head_prefixes_are_the_classifier_alone():
    """include_top=False skips exactly the classifier (the aux heads are skipped as unused)."""
    assert head_prefixes(kr.get_spec("GoogLeNet")) == ("fc.",)
    assert head_prefixes(kr.get_spec("InceptionResNetV2")) == ("classif.",)


def test_inception_v3_pools_count_the_padding_and_v4_pools_do_not():
    """InceptionV3's branch pools are F.avg_pool2d (count_include_pad=True); V4's nn.AvgPool2d(...,
    count_include_pad=False). At Mixed_5b's 7x7 map (75x75 input) the two differ at every border pixel."""
    torch = pytest.importorskip("torch")
    model = kr.InceptionV3(include_top=False, input_shape=(75, 75, 3))
    pad, pool = model.get_layer("Mixed_5b-pool-pad"), model.get_layer("Mixed_5b-pool")
    probe = keras.Model(model.inputs, [pad.input, pool.output])
    pooled_input, pooled = (np.asarray(t) for t in probe(_images(1, 75, 75)))
    assert pooled.shape[1:3] == (7, 7)
    with torch.no_grad():
        including, excluding = (torch.nn.functional.avg_pool2d(_nchw(pooled_input), 3, 1, 1, count_include_pad=mode)
                                .numpy().transpose(0, 2, 3, 1) for mode in (True, False))
    assert not np.allclose(including, excluding)
    np.testing.assert_allclose(pooled, including, rtol=1e-5, atol=1e-6)

    from keras_resfamily.families.inception import ops

    images = _images(1, 4, 5)
    for count_include_pad in (True, False):
        inputs = keras.Input((4, 5, 3))
        layer = keras.Model(inputs, ops.build(inputs, ops.AvgPool(count_include_pad), "pool", ops.Context(1e-3)))
        with torch.no_grad():
            expected = torch.nn.functional.avg_pool2d(_nchw(images), 3, 1, 1, count_include_pad=count_include_pad)
        np.testing.assert_allclose(np.asarray(layer(images)), expected.numpy().transpose(0, 2, 3, 1), rtol=1e-6)
    assert all(not op.count_include_pad for op in _avg_pools("InceptionV4") + _avg_pools("InceptionResNetV2"))
    assert all(op.count_include_pad for op in _avg_pools("InceptionV3"))


def _avg_pools(name):
    from keras_resfamily.families.inception import ops

    return [op for op in kr.get_spec(name)._ops() if isinstance(op, ops.AvgPool)]


def test_googlenet_transform_input():
    """transform_input=False equals torchvision's googlenet(transform_input=False); the default (True)
    on ImageNet-normalised images equals it on the same pixels normalised with mean = std = 0.5. The
    torchvision checkpoint (aux heads included) loads without them."""
    import torch

    spec, reference = _randomized_reference("GoogLeNet", transform_input=False)
    assert (spec.mean, spec.std) == ((0.5,) * 3, (0.5,) * 3)
    _, with_aux = _randomized_reference("GoogLeNet", aux_logits=True)
    plain = kr.GoogLeNet(transform_input=False, classifier_activation=None)
    kr.load_timm_state_dict(plain, reference.state_dict())
    images = _images(2, 64, 64)
    with torch.no_grad():
        expected = reference(_nchw(images)).numpy()
    assert _relative_error(plain(images, training=False), expected) <= 1e-5

    transformed = kr.GoogLeNet(classifier_activation=None)
    kr.load_timm_state_dict(transformed, with_aux.state_dict(), ignore_prefixes=spec.unused_checkpoint_prefixes())
    plain.set_weights(transformed.get_weights())
    pixels = RNG.uniform(size=(2, 64, 64, 3)).astype("float32")
    imagenet = (pixels - np.array(kr.specs.IMAGENET_MEAN)) / np.array(kr.specs.IMAGENET_STD)
    np.testing.assert_allclose(np.asarray(transformed(imagenet.astype("float32"))),
                               np.asarray(plain((pixels - 0.5) / 0.5)), rtol=1e-4, atol=1e-5)
    assert "transform_input" not in [layer.name for layer in kr.GoogLeNet(input_shape=(32, 32, 1)).layers]


@pytest.mark.parametrize("name, min_size", [("GoogLeNet", 15), ("InceptionV3", 75), ("InceptionV4", 75),
                                            ("InceptionResNetV2", 75)])
def test_min_size_is_the_reference_s_and_errors_say_so(name, min_size):
    """The reference runs at min_size and fails one pixel below; the constructor says so before building."""
    torch = pytest.importorskip("torch")
    spec = kr.get_spec(name)
    assert spec.min_size == min_size
    with pytest.raises(ValueError, match=rf"Input size must be at least {min_size}x{min_size}; "
                                         rf"Received: input_shape=\({min_size - 1}, 128, 3\)"):
        kr.create_model(name, input_shape=(min_size - 1, 128, 3))
    reference = _reference(spec)
    with torch.no_grad():
        assert reference(torch.zeros(1, 3, min_size, min_size)).shape == (1, 1000)
        with pytest.raises(RuntimeError):
            reference(torch.zeros(1, 3, min_size - 1, min_size - 1))


@pytest.mark.parametrize("transform_input, mean, std", [(True, kr.specs.IMAGENET_MEAN, kr.specs.IMAGENET_STD),
                                                        (False, (0.5,) * 3, (0.5,) * 3)])
def test_googlenet_in_model_preprocessing_with_published_weights(monkeypatch, transform_input, mean, std):
    """With the published tag, include_preprocessing normalises as the built model expects: the tag's
    ImageNet mean/std where the transform re-normalises them, mean = std = 0.5 without it."""
    from keras_resfamily import hub

    monkeypatch.setattr(hub, "load_weights", lambda *args, **kwargs: None)  # the normalisation alone
    assert hub.get_weights_entry("GoogLeNet", "imagenet").mean == kr.specs.IMAGENET_MEAN
    model = kr.GoogLeNet(weights="imagenet", include_preprocessing=True, transform_input=transform_input)
    layer = model.get_layer("preprocessing")
    np.testing.assert_allclose(layer.offset, [-m / s for m, s in zip(mean, std)], rtol=1e-6)
    np.testing.assert_allclose(layer.scale, [1 / (255 * s) for s in std], rtol=1e-6)
