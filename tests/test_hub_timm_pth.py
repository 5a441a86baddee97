"""timm's one pickled `.pth` checkpoint (legacy_xception.tf_in1k, row `Xception`) through the weights hub.

The shipped entry is checked as published (GitHub release URL, the sha256 prefix in its file name, no
full hash); end to end, the entry is pointed at 127.0.0.1 (github.com is never contacted) and serves a
torch.save'd state_dict of a randomised timm legacy_xception: checked against the prefix, parsed
without running its pickle, recorded by full sha256, converted and then reused offline.
"""

import hashlib
import io
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

import keras_resfamily as kr  # noqa: E402
from keras_resfamily import hub  # noqa: E402
from keras_resfamily.hub import cache, registry, sources  # noqa: E402
from keras_resfamily.hub.convert import head_prefixes  # noqa: E402
from tests.hub_server import cached_files, published_pth_hub  # noqa: E402
from tests.timm_reference import randomized_reference_model, timm_forward  # noqa: E402

pytestmark = pytest.mark.xdist_group("hub_timm_pth")  # one worker builds the checkpoint once
ROW = "Xception"
KEY = "legacy_xception"
URL = "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-cadene/xception-43020ad28.pth"
PUBLISHED = "43020ad28"  # 9 hex digits: the prefix in the release file's name
PUBLISHER = "rwightman/pytorch-image-models"  # the fake server's folder for the file


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _close(actual, expected):
    """Max relative error (to the largest reference magnitude) within 1e-4."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return np.abs(actual - expected).max() <= 1e-4 * np.abs(expected).max()


@pytest.fixture(scope="module")
def checkpoint():
    spec = kr.get_spec(ROW)
    size = spec.min_size + 1  # 72: just above the smallest input, an even size (71 is the odd one)
    model = randomized_reference_model(spec, seed=3)
    images = np.random.default_rng(0).normal(size=(2, size, size, 3)).astype("float32")
    with torch.no_grad():
        features = model.forward_features(torch.from_numpy(images.transpose(0, 3, 1, 2)))
        pooled = features.mean(dim=(2, 3)).numpy()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return dict(data=buffer.getvalue(), size=size, images=images, logits=timm_forward(model, images),
                pooled=pooled)


@pytest.fixture
def server(checkpoint, tmp_path, monkeypatch):
    """A local server holding the checkpoint under its own prefix; `server.serve(data, prefix)` republishes."""
    hub_server = published_pth_hub(monkeypatch, tmp_path / "cache", KEY, ROW, PUBLISHER, "xception")
    hub_server.send_hash = False  # a release asset: trusted on the published prefix and the parse alone
    hub_server.dest = hub_server.serve(checkpoint["data"])
    yield hub_server
    hub_server.stop()


def _model(checkpoint, **kwargs):
    size = checkpoint["size"]
    return kr.create_model(ROW, weights="imagenet", input_shape=(size, size, 3), **kwargs)


def test_shipped_entry_is_the_release_pth_with_its_published_prefix():
    (entry,) = registry.load_registry()[KEY]
    source = entry.source
    assert (entry.reference, entry.tag, entry.is_default, entry.classifier) == (KEY, "tf_in1k", True, "fc")
    assert (source.url, source.filename, source.sha256_prefix) == (URL, "xception-43020ad28.pth", PUBLISHED)
    assert source.sha256 is None and source.hf_repo is None and source.is_torch_pickle
    assert sources.published_prefix(source.filename) == PUBLISHED
    import timm

    assert timm.models.get_pretrained_cfg(f"{KEY}.tf_in1k").url == URL  # what timm itself downloads
    for name in (ROW, KEY):
        assert hub.get_weights_entry(name) == entry
        assert hub.get_weights_entry(name, "tf_in1k") == hub.get_weights_entry(name, f"{KEY}.tf_in1k") == entry
    (row,) = hub.list_weights(ROW)
    assert (row["source"], row["sha256"], row["sha256_prefix"]) == (URL, None, PUBLISHED)
    assert head_prefixes(kr.get_spec(ROW)) == ("fc.",)  # what include_top=False skips


def test_imagenet_matches_timm_then_loads_offline_from_cache(server, checkpoint, tmp_path, monkeypatch):
    model = _model(checkpoint, classifier_activation=None)
    assert _close(model(checkpoint["images"], training=False), checkpoint["logits"])
    assert len(server.downloads()) == 1
    sha = _sha(checkpoint["data"])
    assert server.dest.endswith(os.path.join("urls", os.path.basename(os.path.dirname(server.dest)),
                                             f"xception-{sha[:len(PUBLISHED)]}.pth"))
    assert cache.recorded_sha256(server.dest) == sha == cache.sha256_of(server.dest)
    (converted,) = cached_files(tmp_path, ".weights.h5")
    assert sha[:12] in converted  # named after the full hash of the source

    server.stop()
    monkeypatch.setenv("KERAS_RESFAMILY_OFFLINE", "1")
    converted_mtime = os.path.getmtime(converted)
    again = _model(checkpoint, classifier_activation=None)
    assert _close(again(checkpoint["images"], training=False), checkpoint["logits"])
    assert len(server.downloads()) == 1  # no second download
    assert os.path.getmtime(converted) == converted_mtime  # loaded, not converted again


def test_include_top_false_avg_pool_is_timm_forward_features_pooled(server, checkpoint):
    """The checkpoint's fc.weight / fc.bias have no layer without the top: they must be skipped."""
    backbone = _model(checkpoint, include_top=False, pooling="avg")
    assert _close(backbone(checkpoint["images"], training=False), checkpoint["pooled"])
    assert len(server.downloads()) == 1


def test_file_not_matching_the_published_prefix_caches_nothing(server, checkpoint, tmp_path):
    """A valid state_dict of the right architecture, served under the real release's name and prefix."""
    assert not _sha(checkpoint["data"]).startswith(PUBLISHED)
    server.serve(checkpoint["data"], prefix=PUBLISHED)
    assert hub.get_weights_entry(ROW).source.filename == "xception-43020ad28.pth"
    with pytest.raises(hub.ChecksumMismatchError, match=rf"does not start with {PUBLISHED}, the prefix published"):
        hub.download_weights(ROW)
    assert len(server.downloads()) == 1  # it was downloaded, then refused
    assert cached_files(tmp_path, ".pth", ".part", ".sha256", ".json", ".weights.h5") == []
