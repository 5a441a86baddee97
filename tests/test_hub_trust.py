"""The weights hub never trusts bytes it has not verified: unrecorded, truncated or corrupt files in the
cache, a mirror that sends neither length nor hash, and a bit-flipped converted .weights.h5."""

import hashlib
import os

import pytest

import keras_resfamily as kr
from keras_resfamily import hub
from keras_resfamily.hub import cache, registry
from keras_resfamily.hub.__main__ import main as hub_cli
from tests.hub_server import cached_files, outputs_close
from tests.test_hub import REPO, SIZE, fake_hub, resnet18  # noqa: F401 (fixtures)

pytestmark = pytest.mark.xdist_group("hub")
FIX = "python -m keras_resfamily.hub download"


def _dest():
    return cache.cache_path(registry.find_entry(kr.get_spec("ResNet18"), "imagenet").source)


def _place(data):
    """Put `data` in the cache as the ResNet18 checkpoint, with no record (as by hand or an old version)."""
    dest = _dest()
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(data)
    return dest


def _verify_fails_listing(path, capsys, *args):
    code = hub_cli(["verify", *args])
    out = capsys.readouterr().out
    assert code != 0 and path in out, out
    return out


def _model():
    return kr.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 3), classifier_activation=None)


@pytest.mark.parametrize("fault", ["garbage", "truncated"])
def test_unrecorded_cache_file_is_never_trusted(fake_hub, resnet18, monkeypatch, capsys, fault):
    data = resnet18["data"]
    dest = _place(b"not a checkpoint " * 4096 if fault == "garbage" else data[: len(data) // 2])
    out = _verify_fails_listing(dest, capsys, "ResNet18")
    assert "CORRUPT" in out and FIX in out

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline it cannot be verified: fail, naming it
    with pytest.raises(hub.WeightsNotCachedError, match="no recorded sha256") as info:
        hub.download_weights("ResNet18")
    assert dest in str(info.value) and FIX in str(info.value)
    assert cache.recorded_sha256(dest) is None

    monkeypatch.delenv("HF_HUB_OFFLINE")  # online it is downloaded again
    assert hub_cli(["download", "ResNet18"]) == 0
    assert cache.recorded_sha256(dest) == hashlib.sha256(data).hexdigest() == cache.sha256_of(dest)
    assert len(fake_hub.downloads()) == 1
    assert hub_cli(["verify"]) == 0


def test_mirror_without_length_or_hash_that_cuts_the_body(fake_hub, resnet18, tmp_path, capsys):
    fake_hub.send_length = fake_hub.send_hash = False
    fake_hub.cut_after, fake_hub.cuts = len(resnet18["data"]) // 2, 1
    with pytest.raises(hub.WeightsDownloadError, match="not a complete safetensors file.*nothing was cached"):
        hub.download_weights("ResNet18")
    assert cached_files(tmp_path, ".safetensors") == cached_files(tmp_path, ".part") == []
    assert cached_files(tmp_path, ".sha256") == []

    # A complete body that validates is used, but, checked by neither hash nor length, is not recorded.
    assert outputs_close(_model()(resnet18["images"], training=False), resnet18["logits"])
    assert cache.recorded_sha256(_dest()) is None
    _verify_fails_listing(_dest(), capsys)

    fake_hub.send_length = fake_hub.send_hash = True  # a correct server: downloaded again and recorded
    assert hub_cli(["download", "ResNet18"]) == 0
    assert cache.recorded_sha256(_dest()) == hashlib.sha256(resnet18["data"]).hexdigest()


def test_length_without_hash_is_recorded_only_after_validation(fake_hub, resnet18, tmp_path):
    fake_hub.send_hash = False
    fake_hub.add(REPO, b"\x08" + b"\x00" * 7 + b"{}garbage")  # the right length, not safetensors
    with pytest.raises(hub.WeightsDownloadError, match="not a complete safetensors file"):
        hub.download_weights("ResNet18")
    assert cached_files(tmp_path, ".safetensors") == cached_files(tmp_path, ".sha256") == []
    fake_hub.add(REPO, resnet18["data"])
    path, sha = hub.download_weights("ResNet18")
    assert cache.recorded_sha256(path) == sha == hashlib.sha256(resnet18["data"]).hexdigest()


def test_unparsable_file_with_a_record_names_the_path_and_the_fix(fake_hub, resnet18, capsys):
    dest = _place(b"garbage recorded as verified by an older version " * 100)
    cache.record_sha256(dest, cache.sha256_of(dest))
    out = _verify_fails_listing(dest, capsys)
    assert "CORRUPT" in out
    with pytest.raises(hub.CorruptWeightsError, match="not a valid safetensors file") as info:
        _model()
    assert dest in str(info.value) and f"{FIX} ResNet18 a1_in1k" in str(info.value)
    assert cache.recorded_sha256(dest) is None  # no longer trusted: the next call downloads it again
    assert outputs_close(_model()(resnet18["images"], training=False), resnet18["logits"])


def _flip_a_weight(path):
    """Set the exponent of one float of the largest dataset: the file still loads, logits go huge."""
    import h5py

    with h5py.File(path, "r") as f:
        datasets = []
        f.visititems(lambda name, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None)
        largest = max(datasets, key=lambda d: d.size)
        offset = largest.id.get_offset()
    assert offset is not None
    with open(path, "r+b") as f:
        f.seek(offset + 3)  # the top byte of the first little-endian float32
        f.write(b"\x7c")


def test_bit_flipped_converted_weights_are_rebuilt_not_loaded(fake_hub, resnet18, tmp_path, monkeypatch, capsys):
    _model()
    (converted,) = cached_files(tmp_path, ".weights.h5")
    assert cache.recorded_sha256(converted) == cache.sha256_of(converted)
    _flip_a_weight(converted)
    out = _verify_fails_listing(converted, capsys, "ResNet18")
    assert "MISMATCH" in out

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # rebuilt from the verified source, no network needed
    model = _model()
    assert outputs_close(model(resnet18["images"], training=False), resnet18["logits"])
    assert converted in capsys.readouterr().err  # the warning names the file
    assert cache.recorded_sha256(converted) == cache.sha256_of(converted)
    assert hub_cli(["verify"]) == 0
    assert len(fake_hub.downloads()) == 1
