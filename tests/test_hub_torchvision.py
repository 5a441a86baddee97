"""torchvision's published .pth checkpoints through the weights hub, against a local server.

The registry entry of TorchvisionMobileNetV3Small is pointed at 127.0.0.1 (download.pytorch.org is
never contacted); the file is a torch.save'd state_dict of a randomised torchvision model, checked
against the sha256 prefix in its file name, parsed without running its pickle, then recorded.
"""

import hashlib
import io
import os
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

import keras_resfamily as kr  # noqa: E402
from keras_resfamily import hub  # noqa: E402
from keras_resfamily.convert import reference_name  # noqa: E402
from keras_resfamily.hub import cache, registry, sources  # noqa: E402
from keras_resfamily.hub.__main__ import main as hub_cli  # noqa: E402
from keras_resfamily.hub.convert import head_prefixes  # noqa: E402
from tests.hub_server import cached_files, outputs_close, published_pth_hub  # noqa: E402
from tests.timm_reference import randomized_reference_model, timm_forward  # noqa: E402

pytestmark = pytest.mark.xdist_group("hub_torchvision")  # one worker builds the checkpoint once
ROW = "TorchvisionMobileNetV3Small"
KEY = "torchvision.mobilenet_v3_small"
PUBLISHER = "pytorch/models"  # the fake server's folder for the .pth files
SIZE = 64


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _saved(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)  # the zip layout torchvision's files use
    return buffer.getvalue()


@pytest.fixture(scope="module")
def checkpoint():
    model = randomized_reference_model(kr.get_spec(ROW), seed=5)
    images = np.random.default_rng(0).normal(size=(2, SIZE, SIZE, 3)).astype("float32")
    with torch.no_grad():
        features = model.features(torch.from_numpy(images.transpose(0, 3, 1, 2)))
        pooled = model.avgpool(features).flatten(1).numpy()
    other = randomized_reference_model(kr.get_spec(ROW), seed=6)  # same architecture, other weights
    return dict(data=_saved(model.state_dict()), other=_saved(other.state_dict()), state_dict=model.state_dict(),
                images=images, logits=timm_forward(model, images), pooled=pooled)


@pytest.fixture
def server(checkpoint, tmp_path, monkeypatch):
    """A local server holding the checkpoint; `server.serve(data, prefix)` publishes other bytes."""
    hub_server = published_pth_hub(monkeypatch, tmp_path / "cache", KEY, ROW, PUBLISHER, "mobilenet_v3_small")
    hub_server.dest = hub_server.serve(checkpoint["data"])
    yield hub_server
    hub_server.stop()


def _model(**kwargs):
    return kr.create_model(ROW, weights="imagenet", input_shape=(SIZE, SIZE, 3), **kwargs)


def test_imagenet_matches_torchvision_then_loads_offline_from_cache(server, checkpoint, tmp_path, monkeypatch):
    server.send_length = server.send_hash = False  # trusted on the published prefix and the parse alone
    model = _model(classifier_activation=None)
    assert outputs_close(model(checkpoint["images"], training=False), checkpoint["logits"])
    assert len(server.downloads()) == 1
    assert cache.recorded_sha256(server.dest) == _sha(checkpoint["data"]) == cache.sha256_of(server.dest)
    (converted,) = cached_files(tmp_path, ".weights.h5")
    assert _sha(checkpoint["data"])[:12] in converted  # named after the full hash of the source

    server.stop()
    monkeypatch.setenv("KERAS_RESFAMILY_OFFLINE", "1")
    converted_mtime = os.path.getmtime(converted)
    again = _model(classifier_activation=None)
    assert outputs_close(again(checkpoint["images"], training=False), checkpoint["logits"])
    assert os.path.getmtime(converted) == converted_mtime  # loaded, not converted again


def test_include_top_false_loads_without_the_classifier(server, checkpoint):
    """Without top the checkpoint's classifier.0 (the pooled head conv) and classifier.3 are skipped."""
    assert head_prefixes(kr.get_spec(ROW)) == ("classifier.0.", "classifier.3.")
    backbone = _model(include_top=False, pooling="avg")
    assert outputs_close(backbone(checkpoint["images"], training=False), checkpoint["pooled"])


def test_prefix_mismatch_caches_nothing(server, checkpoint, tmp_path):
    """Valid state_dict bytes of the right architecture, but not the published file."""
    server.serve(checkpoint["other"], prefix=_sha(checkpoint["data"])[:8])
    with pytest.raises(hub.ChecksumMismatchError, match=r"does not start with [0-9a-f]{8}, the prefix published"):
        hub.download_weights(ROW)
    assert cached_files(tmp_path, ".pth", ".part", ".sha256") == []


class _System:
    """A pickled call of os.system: what `torch.load(weights_only=False)` would run."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_pickle_with_the_published_prefix_is_rejected_unrun(server, checkpoint, tmp_path):
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_System(marker)))  # the payload is live: plain pickle runs it
    assert marker.exists()
    marker.unlink()
    evil = _saved({**checkpoint["state_dict"], "payload": _System(marker)})
    server.serve(evil)  # the entry publishes the evil file's own prefix: only the parse can catch it
    refused = r"rejected.*refused to load global \w+\.system.*nothing was cached"
    with pytest.raises(hub.UnsafeCheckpointError, match=refused):
        hub.download_weights(ROW)
    with pytest.raises(hub.UnsafeCheckpointError):
        _model()
    assert not marker.exists()
    assert cached_files(tmp_path, ".pth", ".part", ".sha256", ".weights.h5") == []


def test_cached_pth_without_record_is_not_trusted(server, checkpoint, tmp_path, monkeypatch):
    hub.download_weights(ROW)
    os.remove(server.dest + ".sha256")  # as if placed by hand
    monkeypatch.setenv("KERAS_RESFAMILY_OFFLINE", "1")
    with pytest.raises(hub.WeightsNotCachedError, match="no recorded sha256") as info:
        _model()
    assert server.dest in str(info.value)
    assert cached_files(tmp_path, ".weights.h5") == []

    monkeypatch.delenv("KERAS_RESFAMILY_OFFLINE")  # online it is downloaded again and recorded
    path, sha = hub.download_weights(ROW)
    assert sha == _sha(checkpoint["data"]) == cache.recorded_sha256(path)
    assert len(server.downloads()) == 2


def test_cached_pth_recorded_with_another_hash_than_the_published_prefix(server, checkpoint):
    """Another valid checkpoint placed with its own (correct) record is still not the published file."""
    os.makedirs(os.path.dirname(server.dest), exist_ok=True)
    with open(server.dest, "wb") as f:
        f.write(checkpoint["other"])
    cache.record_sha256(server.dest, _sha(checkpoint["other"]))
    path, sha = hub.download_weights(ROW)
    assert sha == _sha(checkpoint["data"]) == cache.sha256_of(path)
    assert len(server.downloads()) == 1


def test_cli_list_download_verify(server, checkpoint, capsys):
    assert hub_cli(["list", ROW]) == 0
    out = capsys.readouterr().out
    prefix = _sha(checkpoint["data"])[:8]
    assert "* IMAGENET1K_V1" in out and f"mobilenet_v3_small-{prefix}.pth  sha256 {prefix}..." in out
    assert hub_cli(["download", ROW, "IMAGENET1K_V1"]) == 0
    assert capsys.readouterr().out.splitlines() == [server.dest, f"sha256 {_sha(checkpoint['data'])}"]
    assert hub_cli(["verify", ROW]) == 0
    assert capsys.readouterr().out.startswith("OK")
    with open(server.dest, "r+b") as f:
        f.seek(100)
        f.write(b"\x00" * 8)
    assert hub_cli(["verify", ROW]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_registry_lists_every_torchvision_row_with_its_published_prefix():
    import torchvision

    table = registry.load_registry()
    rows = [s for s in kr.specs.all_specs() if s.reference_source == "torchvision"]
    assert {s.reference for s in rows} >= {"mobilenet_v2", "mobilenet_v3_small", "efficientnet_b7"}
    for spec in rows:
        enum = torchvision.models.get_model_weights(spec.reference)
        entries = table[spec.reference_key]
        assert [e.tag for e in entries][0] == enum.DEFAULT.name
        assert {e.tag for e in entries} == {w.name for w in enum}, spec.name
        for entry in entries:
            url = enum[entry.tag].url
            assert entry.source.url == url and entry.source.sha256 is None
            assert entry.source.sha256_prefix == sources.published_prefix(url.rsplit("/", 1)[-1])
            assert url.startswith("https://download.pytorch.org/models/")
            assert url.endswith(f"-{entry.source.sha256_prefix}.pth")
            assert reference_name(spec.classifier_name) == entry.classifier, spec.name
    (row,) = hub.list_weights("mobilenet_v3_small")
    assert (row["tag"], row["default"], row["sha256"]) == ("IMAGENET1K_V1", True, None)
    assert row["sha256_prefix"] == "047dcff4"
    assert row["source"] == "https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth"
    assert (row["input_size"], row["crop_pct"], row["interpolation"], row["num_classes"], row["license"]) == (
        (224, 224, 3), 0.875, "bilinear", 1000, "bsd-3-clause")
    assert (row["top1"], row["top5"], row["eval_size"]) == (67.668, 87.402, 224)  # torchvision's meta
    assert hub.get_weights_entry("torchvision.mobilenet_v2").tag == "IMAGENET1K_V2"
    assert hub.get_weights_entry("mobilenet_v2", "IMAGENET1K_V1").source.sha256_prefix == "b0353104"


def test_user_supplied_pth_stays_refused(tmp_path):
    spec = kr.get_spec(ROW)
    url = "https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth"
    with pytest.raises(ValueError, match=r"Only .safetensors files are downloaded"):
        hub.is_pretrained(url, spec)
    with pytest.raises(ValueError, match=r"Only .safetensors files are downloaded"):
        hub.is_pretrained("hf://someone/repo@main/model.pth", spec)
    local = tmp_path / "mobilenet_v3_small-047dcff4.pth"
    local.write_bytes(b"not read")
    with pytest.raises(ValueError, match=r"never read\). Received: weights="):
        hub.is_pretrained(str(local), spec)
    with pytest.raises(ValueError, match=r"only downloaded from registry entries with a published sha256 prefix"):
        hub.fetch_file(sources.Source(url=url, filename=url.rsplit("/", 1)[-1], revision=None))
    with pytest.raises(ValueError, match="sha256_prefix must be 8 to 64 lower-case hex digits; received 'ABC'"):
        sources.Source(url=url, filename="x.pth", revision=None, sha256_prefix="ABC")
