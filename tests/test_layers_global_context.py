"""GlobalContext: timm parity for each fusion / pooling, float16 safety, Keras layer contract."""

import numpy as np
import pytest

import keras
from keras_resfamily.convert import load_timm_state_dict
from keras_resfamily.layers import GlobalContext
from layer_contract import check_layer_contract

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("kwargs", [
    dict(fuse_add=True, fuse_scale=False),  # GCNet / timm "gca"
    dict(fuse_add=False, fuse_scale=True),  # timm "gc"
    dict(fuse_add=True, fuse_scale=True, use_attn=False, rd_ratio=0.25),
])
def test_matches_timm_global_context(kwargs):
    torch = pytest.importorskip("torch")
    from timm.layers import GlobalContext as TimmGlobalContext

    torch.manual_seed(0)
    reference = TimmGlobalContext(16, **kwargs).eval()
    with torch.no_grad():
        for tensor in reference.state_dict().values():
            tensor.normal_(0, 0.5)
    inputs = keras.Input((None, None, 16))
    model = keras.Model(inputs, GlobalContext(name="attn", **kwargs)(inputs))
    load_timm_state_dict(model, {f"attn.{k}": v for k, v in reference.state_dict().items()})
    images = RNG.normal(size=(2, 7, 9, 16)).astype("float32")
    with torch.no_grad():
        expected = reference(torch.from_numpy(images.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(model(images)), expected, atol=1e-5 * np.abs(expected).max())


def test_attention_pooling_does_not_overflow_in_float16():
    keras.config.set_dtype_policy("mixed_float16")
    layer = GlobalContext(rd_channels=4)
    images = np.full((1, 64, 64, 8), 200.0, "float32")  # a float16 sum over 4096 positions overflows
    outputs = np.asarray(keras.ops.cast(layer(images), "float32"))
    assert np.all(np.isfinite(outputs))


def test_keras_layer_contract():
    check_layer_contract(lambda: GlobalContext(fuse_scale=True, rd_ratio=0.25), (6, 6, 8), expected_weights=14)
    check_layer_contract(lambda: GlobalContext(use_attn=False), (6, 6, 16), expected_weights=6)


@pytest.mark.parametrize("kwargs,match", [
    (dict(fuse_add=False, fuse_scale=False), "fuse_add=False, fuse_scale=False"),
    (dict(rd_ratio=0.0), "rd_ratio=0.0"),
    (dict(rd_channels=-2), "rd_channels=-2"),
])
def test_bad_arguments_name_the_received_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GlobalContext(**kwargs)
