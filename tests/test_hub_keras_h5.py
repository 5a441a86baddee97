"""keras.applications' published .h5 weights through the weights hub, against a local server.

The registry entry of KerasResNet50V2 is pointed at 127.0.0.1 (storage.googleapis.com is never contacted); the file
is a Keras 2 style `save_weights` .h5 of a randomised keras.applications ResNet50V2, checked against the md5 in the
entry (what keras.applications publishes), read whole, then its sha256 recorded.
"""

import hashlib
import io
import os

import h5py
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

import keras_resfamily as kr
from keras_resfamily import hub
from keras_resfamily.hub import cache
from tests.hub_server import cached_files, outputs_close, published_h5_hub
from tests.timm_reference import KerasApplicationsReference

pytestmark = pytest.mark.xdist_group("hub_keras_h5")  # one worker builds the checkpoint once
ROW = "KerasResNet50V2"
KEY = "keras.applications.ResNet50V2"
PUBLISHER = "tensorflow/keras-applications"
SIZE = 64


def _saved(reference):
    """The reference's weights as keras.applications' files hold them (Keras 2's .h5 layout)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference.model)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def checkpoint():
    reference = KerasApplicationsReference.randomized("ResNet50V2", seed=7)
    images = np.random.default_rng(0).normal(size=(2, SIZE, SIZE, 3)).astype("float32")
    other = KerasApplicationsReference.randomized("ResNet50V2", seed=8)  # same architecture, other weights
    state_dict = reference.state_dict()
    return dict(data=_saved(reference), other=_saved(other), images=images, logits=reference(images),
                classifier=(state_dict["predictions.weight"], state_dict["predictions.bias"]))


@pytest.fixture
def server(checkpoint, tmp_path, monkeypatch):
    hub_server = published_h5_hub(monkeypatch, tmp_path / "cache", KEY, ROW, PUBLISHER)
    hub_server.dest = hub_server.serve(checkpoint["data"])
    yield hub_server
    hub_server.stop()


def _model(**kwargs):
    return kr.create_model(ROW, weights="imagenet", input_shape=(SIZE, SIZE, 3), **kwargs)


def test_imagenet_matches_keras_applications_then_loads_offline(server, checkpoint, tmp_path, monkeypatch):
    server.send_length = server.send_hash = False  # trusted on the published md5 and the read alone
    model = _model(classifier_activation=None)
    assert outputs_close(model(checkpoint["images"], training=False), checkpoint["logits"])
    assert len(server.downloads()) == 1
    assert cache.recorded_sha256(server.dest) == hashlib.sha256(checkpoint["data"]).hexdigest()

    # Without the top the classifier is skipped: the pooled features give the logits through it.
    backbone = _model(include_top=False, pooling="avg")
    kernel, bias = checkpoint["classifier"]
    pooled = np.asarray(backbone(checkpoint["images"], training=False))
    assert outputs_close(pooled @ kernel.T + bias, checkpoint["logits"])

    server.stop()
    monkeypatch.setenv("KERAS_RESFAMILY_OFFLINE", "1")
    again = _model(classifier_activation=None)
    assert outputs_close(again(checkpoint["images"], training=False), checkpoint["logits"])


def test_other_bytes_than_the_published_md5_cache_nothing(server, checkpoint, tmp_path):
    """A readable .h5 of the right architecture, but not the file keras.applications published."""
    server.serve(checkpoint["other"], md5=hashlib.md5(checkpoint["data"]).hexdigest())
    with pytest.raises(hub.ChecksumMismatchError, match="does not have md5 [0-9a-f]{32}, the hash keras.applications"):
        hub.download_weights(ROW)
    assert cached_files(tmp_path, ".h5", ".part", ".sha256") == []


def test_published_bytes_that_are_no_h5_file_are_rejected(server, tmp_path):
    """The md5 matches (a publisher's mistake, or a forged entry) but the bytes are not weights: never cached."""
    server.serve(b"<html>not found</html>")
    with pytest.raises(hub.CorruptWeightsError, match="was rejected .*not a Keras weights .h5 file"):
        hub.download_weights(ROW)
    assert cached_files(tmp_path, ".h5", ".part", ".sha256") == []


def test_a_cached_file_recorded_beside_other_bytes_is_downloaded_again(server, checkpoint, capfd):
    """Bytes placed by hand with their own sha256 written beside them: the record vouches for nothing, the md5
    keras.applications publishes is checked too."""
    os.makedirs(os.path.dirname(server.dest), exist_ok=True)
    with open(server.dest, "wb") as f:
        f.write(checkpoint["other"])
    cache.record_sha256(server.dest, hashlib.sha256(checkpoint["other"]).hexdigest())
    path, sha256 = hub.download_weights(ROW)
    assert "does not have the md5" in capfd.readouterr().err
    assert sha256 == hashlib.sha256(checkpoint["data"]).hexdigest() == cache.sha256_of(path)
    assert len(server.downloads()) == 1


def test_unregistered_h5_sources_are_never_downloaded():
    source = hub.sources.Source(url="https://example.com/w_weights_tf_dim_ordering_tf_kernels.h5",
                                filename="w_weights_tf_dim_ordering_tf_kernels.h5", revision=None)
    with pytest.raises(ValueError, match="Keras .h5 weights are only downloaded from registry entries"):
        hub.fetch_file(source)


def test_cli_lists_the_md5_and_verify_checks_it(server, checkpoint, capsys):
    from keras_resfamily.hub.__main__ import main as hub_cli

    assert hub_cli(["list", ROW]) == 0
    assert f"md5 {hashlib.md5(checkpoint['data']).hexdigest()}" in capsys.readouterr().out
    assert hub_cli(["download", ROW]) == 0
    capsys.readouterr()
    assert hub_cli(["verify", ROW]) == 0
    assert capsys.readouterr().out.startswith("OK")
    with open(server.dest, "wb") as f:  # other bytes, with a record that matches them
        f.write(checkpoint["other"])
    cache.record_sha256(server.dest, hashlib.sha256(checkpoint["other"]).hexdigest())
    assert hub_cli(["verify", ROW]) == 1
    assert "MISMATCH (expected md5" in capsys.readouterr().out


def test_keras2_files_read_as_a_state_dict(tmp_path):
    """Keras 2 wrote the names as bytes with a ':0' suffix, and a whole-model file nests them in model_weights."""
    from keras_resfamily.convert import read_keras_h5

    kernel, gamma = np.arange(24, dtype="float32").reshape(1, 2, 3, 4), np.ones(4, "float32")
    path = str(tmp_path / "keras2_weights_tf_dim_ordering_tf_kernels.h5")
    with h5py.File(path, "w") as f:
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = np.array([b"conv", b"bn", b"act"])
        for layer, names, arrays in (("conv", [b"conv/kernel:0"], [kernel]), ("bn", [b"bn/gamma:0"], [gamma]),
                                     ("act", [], [])):
            group = weights.create_group(layer)
            group.attrs["weight_names"] = np.array(names, dtype="S")
            for name, array in zip(names, arrays):
                group.create_dataset(name.decode(), data=array)
    state_dict = read_keras_h5(path)
    assert sorted(state_dict) == ["bn.weight", "conv.weight"]
    np.testing.assert_array_equal(state_dict["conv.weight"], kernel.transpose(3, 2, 0, 1))

    with h5py.File(path, "a") as f:
        f["model_weights/bn"].attrs["weight_names"] = np.array([b"bn/depthwise_kernel:0"])
        f["model_weights/bn"].create_dataset("bn/depthwise_kernel:0", data=kernel)
    with pytest.raises(ValueError, match="of a kind this converter does not know"):
        read_keras_h5(path)
