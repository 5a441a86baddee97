"""The dpn family beyond the shared tests: `remat=True` against `remat=False` on a whole model, the rows'
normalisation against timm's pretrained configs, the head's checkpoint prefix, bad `remat` values.
Parity of every row with timm (eval mode) is in test_models.py; the block's training-mode arithmetic
against timm's `DualPathBlock` is in test_layers_dual_path_block.py."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_resfamily as kr
from keras_resfamily.hub.convert import head_prefixes
from keras_resfamily.layers import DualPathBlock

SMALLEST = "DPN48b"
SIZE = 32  # the smallest accepted input: stride 32 is a 1x1 map, training-mode BN still has 2 samples


def _one_training_step(model, images, upstream):
    """Gradients of a training-mode forward (batch statistics; the BN moving averages move once)."""
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(images, training=True) * upstream)
    return [np.asarray(g) for g in tape.gradient(loss, model.trainable_weights)]


def test_remat_gives_the_same_gradients_and_moving_statistics(monkeypatch):
    """One training step of DPN48b with and without `remat`: equal gradients and BN moving statistics,
    and the backward pass really recomputes every block (each block's forward runs twice).

    Catches: a rematerialized block that updates the BN moving averages again when the backward pass
    recomputes it (the statistics would move twice: 0.81 * old + ... instead of 0.9 * old + ...),
    gradients lost or changed through `keras.remat` (variables read inside the recomputed function),
    a `remat` flag that is accepted but never wraps anything, or one that changes the variables.
    """
    plain = kr.create_model(SMALLEST, input_shape=(SIZE, SIZE, 3), classes=5, classifier_activation=None)
    remat = kr.create_model(SMALLEST, input_shape=(SIZE, SIZE, 3), classes=5, classifier_activation=None, remat=True)
    assert [v.path for v in remat.weights] == [v.path for v in plain.weights]
    blocks = [layer for layer in remat.layers if isinstance(layer, DualPathBlock)]
    assert len(blocks) == kr.get_spec(SMALLEST).num_blocks() and all(block.remat for block in blocks)
    remat.set_weights(plain.get_weights())
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, SIZE, SIZE, 3)).astype("float32")
    upstream = rng.normal(size=(2, 5)).astype("float32")

    forwards = []
    original = DualPathBlock._forward
    monkeypatch.setattr(DualPathBlock, "_forward", lambda self, *args: forwards.append(self.name) or original(self, *args))
    expected = _one_training_step(plain, images, upstream)
    assert len(forwards) == len(blocks)
    forwards.clear()
    actual = _one_training_step(remat, images, upstream)
    assert len(forwards) == 2 * len(blocks), "remat=True did not recompute the blocks in the backward pass"

    for variable, a, e in zip(plain.trainable_weights, actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5 * np.abs(e).max(), err_msg=variable.path)
    moved = 0
    for p, r in zip(plain.non_trainable_weights, remat.non_trainable_weights):
        np.testing.assert_allclose(np.asarray(r), np.asarray(p), rtol=1e-6, atol=1e-7, err_msg=p.path)
        moved += not np.allclose(np.asarray(p), 1.0 if "variance" in p.path else 0.0)
    assert moved == len(plain.non_trainable_weights)  # every BN used batch statistics once


def test_remat_survives_serialization_and_inference_is_unchanged():
    """`remat` is in the block's config (a reloaded model keeps checkpointing); inference calls are not
    rematerialized and give the plain model's outputs. Catches: a config without `remat`."""
    model = kr.create_model(SMALLEST, input_shape=(SIZE, SIZE, 3), classes=3, remat=True)
    reloaded = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert all(layer.remat for layer in reloaded.layers if isinstance(layer, DualPathBlock))
    plain = kr.create_model(SMALLEST, input_shape=(SIZE, SIZE, 3), classes=3)
    plain.set_weights(model.get_weights())
    images = np.random.default_rng(1).normal(size=(1, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(model(images, training=False)), np.asarray(plain(images, training=False)))


@pytest.mark.parametrize("value", [1, "yes", None, np.bool_(True)])
def test_bad_remat_values_raise(value):
    """Catches: a truthy non-bool accepted as `remat` (the constructor, and the layer used directly)."""
    with pytest.raises(ValueError, match=r"`remat` must be True or False. Received: remat="):
        kr.DPN68(remat=value)
    with pytest.raises(ValueError, match=r"`remat` must be True or False"):
        DualPathBlock(16, 16, 16, 8, 4, remat=value)


def test_rows_normalise_as_timm_default_weights():
    """Each row's mean / std are those of timm's default pretrained config for its reference (the MXNet
    weights' own (124, 117, 104) / 0.0167 normalisation for dpn68/92/98/107/131; ImageNet's for dpn48b,
    untrained, and dpn68b, whose default tag is timm's ra_in1k). Catches a row left at ImageNet's values."""
    timm = pytest.importorskip("timm")
    for name in kr.list_models("DPN*"):
        spec = kr.get_spec(name)
        config = timm.models.get_pretrained_cfg(spec.reference)
        # exactly: the weights registry's default entries must equal them (tests/test_api.py)
        assert (spec.mean, spec.std) == (tuple(config.mean), tuple(config.std)), name


def test_head_is_the_conv_classifier():
    """The hub skips only `classifier.` without a top (timm's 1x1-conv classifier, a Dense here)."""
    assert head_prefixes(kr.get_spec("DPN92")) == ("classifier.",)
