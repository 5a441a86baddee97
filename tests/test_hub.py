"""The weights hub against a local fake of the Hugging Face hub: resolve, download, verify, cache, load."""

import hashlib
import json
import os
import sys

import numpy as np
import pytest

import keras_resfamily as kr
from keras_resfamily import hub
from keras_resfamily.convert import reference_name
from keras_resfamily.hub import cache, registry, sources
from keras_resfamily.hub.__main__ import main as hub_cli
from tests.hub_server import FakeHub, cached_files, outputs_close
from tests.timm_reference import randomized_timm_model, timm_forward

pytestmark = pytest.mark.xdist_group("hub")  # one worker builds the shared timm checkpoint once
REPO = "timm/resnet18.a1_in1k"  # ResNet18's default ('imagenet') entry
SIZE = 64


def _safetensors_bytes(model):
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in model.state_dict().items()})  # as timm publishes it


@pytest.fixture(scope="module")
def resnet18():
    model = randomized_timm_model("resnet18", seed=3)
    images = np.random.default_rng(0).normal(size=(2, SIZE, SIZE, 3)).astype("float32")
    import torch

    with torch.no_grad():
        pooled = model.forward_head(model.forward_features(torch.from_numpy(images.transpose(0, 3, 1, 2))),
                                    pre_logits=True).numpy()
    return dict(data=_safetensors_bytes(model), images=images, logits=timm_forward(model, images), pooled=pooled)


@pytest.fixture
def fake_hub(resnet18, tmp_path, monkeypatch):
    server = FakeHub().start()
    server.add(REPO, resnet18["data"])
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv(cache.HOME_ENV, str(tmp_path / "cache"))
    for name in cache.OFFLINE_ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("keras_resfamily.hub.fetch.RETRY_PAUSE_SECONDS", 0.0)
    yield server
    server.stop()


def test_imagenet_matches_timm_then_loads_from_cache_without_network(fake_hub, resnet18, tmp_path, monkeypatch):
    model = kr.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 3), classifier_activation=None)
    assert outputs_close(model(resnet18["images"], training=False), resnet18["logits"])
    assert len(fake_hub.downloads()) == 1
    (converted,) = cached_files(tmp_path, ".weights.h5")
    source = hub.download_weights("ResNet18")[0]
    assert source.endswith("models--timm--resnet18.a1_in1k/main/model.safetensors")
    assert cache.recorded_sha256(source) == hashlib.sha256(resnet18["data"]).hexdigest()

    fake_hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    converted_mtime = os.path.getmtime(converted)
    again = kr.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 3), classifier_activation=None)
    assert outputs_close(again(resnet18["images"], training=False), resnet18["logits"])
    assert os.path.getmtime(converted) == converted_mtime  # loaded, not converted again


def test_changed_source_invalidates_converted_weights(fake_hub, resnet18, tmp_path):
    kr.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 3))
    (old_converted,) = cached_files(tmp_path, ".weights.h5")
    other = randomized_timm_model("resnet18", seed=4)
    fake_hub.add(REPO, _safetensors_bytes(other))  # the upstream file changed
    source = hub.download_weights("ResNet18")[0]
    with open(source, "wb") as f:  # replaced by hand without its record: not trusted, downloaded again
        f.write(_safetensors_bytes(other))
    os.remove(source + ".sha256")
    model = kr.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 3), classifier_activation=None)
    assert outputs_close(model(resnet18["images"], training=False), timm_forward(other, resnet18["images"]))
    assert len(fake_hub.downloads()) == 2
    (new_converted,) = cached_files(tmp_path, ".weights.h5")
    assert new_converted != old_converted


def test_tag_hf_reference_and_no_top(fake_hub, resnet18):
    fake_hub.add("timm/resnet18.a2_in1k", resnet18["data"])
    fake_hub.add("someone/finetuned", resnet18["data"], filename="ckpt/best.safetensors", revision="v2")
    tagged = kr.ResNet18(weights="resnet18.a2_in1k", input_shape=(SIZE, SIZE, 3), classifier_activation=None)
    assert outputs_close(tagged(resnet18["images"], training=False), resnet18["logits"])
    backbone = kr.ResNet18(weights="hf://someone/finetuned@v2/ckpt/best.safetensors", include_top=False,
                           pooling="avg", input_shape=(SIZE, SIZE, 3))
    assert outputs_close(backbone(resnet18["images"], training=False), resnet18["pooled"])
    requested = [path for path, _, _ in fake_hub.requests]
    assert "/timm/resnet18.a2_in1k/resolve/main/model.safetensors" in requested
    assert "/someone/finetuned/resolve/v2/ckpt/best.safetensors" in requested


def test_advertised_hash_mismatch_leaves_nothing_in_cache(fake_hub, tmp_path):
    fake_hub.advertised_sha256[f"{REPO}/main/model.safetensors"] = "0" * 64
    with pytest.raises(hub.ChecksumMismatchError, match=r"sha256 [0-9a-f]{64}, but 0{64} was expected"):
        hub.download_weights("ResNet18")
    assert cached_files(tmp_path, ".safetensors") == []
    assert cached_files(tmp_path, ".part") == []


def test_registry_hash_mismatch(fake_hub, tmp_path):
    pinned = sources.Source(hf_repo=REPO, sha256="f" * 64)
    with pytest.raises(hub.ChecksumMismatchError, match="registry"):
        hub.fetch_file(pinned)
    assert cached_files(tmp_path, ".safetensors") == []


def test_interruption_is_resumed_with_range(fake_hub, resnet18):
    fake_hub.cut_after, fake_hub.cuts = 1 << 20, 1
    path, sha = hub.download_weights("ResNet18")
    assert sha == hashlib.sha256(resnet18["data"]).hexdigest() == cache.sha256_of(path)
    assert [rng for _, rng in fake_hub.downloads()] == [None, f"bytes={1 << 20}-"]


def test_failed_download_caches_nothing_and_next_call_succeeds(fake_hub, resnet18, tmp_path):
    fake_hub.cut_after, fake_hub.cuts = 1 << 20, 99
    with pytest.raises(hub.WeightsDownloadError, match="interrupted 3 times"):
        hub.download_weights("ResNet18")
    assert cached_files(tmp_path, "") == []  # not even the .part (see test_hub_failures.py)
    assert [rng is None for _, rng in fake_hub.downloads()] == [True, False, False]  # resumed within the call
    fake_hub.cuts = 0
    path, sha = hub.download_weights("ResNet18")
    assert sha == hashlib.sha256(resnet18["data"]).hexdigest() == cache.sha256_of(path)
    assert fake_hub.downloads()[-1][1] is None  # from the start


def test_stale_partial_of_other_content_is_discarded(fake_hub, resnet18):
    part = cache.cache_path(registry.find_entry(kr.get_spec("ResNet18"), "imagenet").source) + ".part"
    os.makedirs(os.path.dirname(part))
    with open(part, "wb") as f:
        f.write(b"bytes of an older upload" * 1000)
    with open(part + ".json", "w") as f:
        url = fake_hub.endpoint + f"/{REPO}/resolve/main/model.safetensors"
        json.dump({"url": url, "validator": '"older-etag"'}, f)
    path, sha = hub.download_weights("ResNet18")
    assert sha == hashlib.sha256(resnet18["data"]).hexdigest() == cache.sha256_of(path)


def test_corrupted_cache_file_is_detected_and_replaced(fake_hub, resnet18):
    path, _ = hub.download_weights("ResNet18")
    with open(path, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 16)
    path, sha = hub.download_weights("ResNet18")
    assert sha == hashlib.sha256(resnet18["data"]).hexdigest() == cache.sha256_of(path)
    assert len(fake_hub.downloads()) == 2


@pytest.mark.parametrize("variable", cache.OFFLINE_ENVS)
def test_offline_with_empty_cache_names_the_missing_file(fake_hub, tmp_path, monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    with pytest.raises(hub.WeightsNotCachedError) as info:
        kr.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 3))
    message = str(info.value)
    assert f"Offline mode is on ({variable}=1)" in message
    assert str(tmp_path / "cache" / "models--timm--resnet18.a1_in1k" / "main" / "model.safetensors") in message
    assert f"/{REPO}/resolve/main/model.safetensors" in message
    assert fake_hub.requests == []


def test_checkpoint_of_another_architecture_is_rejected_by_name(fake_hub, tmp_path):
    fake_hub.add(REPO, _safetensors_bytes(randomized_timm_model("resnet18d", seed=1)))
    names = r"missing in the checkpoint: .*conv1\.weight.*unexpected in the checkpoint: .*conv1\.0\.weight"
    with pytest.raises(kr.WeightsMismatchError, match=names):
        kr.ResNet18(weights="imagenet", input_shape=(SIZE, SIZE, 3))
    assert cached_files(tmp_path, ".weights.h5") == []


def test_models_without_published_weights():
    none = "has no published pretrained weights"
    with pytest.raises(ValueError, match=rf"ResNeXt29_8x64d {none} \(it has no reference model\)"):
        kr.create_model("ResNeXt29_8x64d", weights="imagenet")
    with pytest.raises(ValueError, match=rf"SEResNet18 {none} \(timm publishes none for 'seresnet18'\)"):
        kr.SEResNet18(weights="imagenet")


def test_backbone_only_checkpoint_needs_include_top_false():
    with pytest.raises(ValueError, match="'bamboo' have no classifier"):
        hub.load_weights(None, kr.get_spec("ResNet50"), "bamboo", include_top=True)


def test_invalid_weights_arguments_name_the_allowed_values(tmp_path):
    spec = kr.get_spec("ResNet18")
    allowed = r"a pretrained tag of ResNet18 \('a1_in1k', .*'tv_in1k'.*Received: weights='in21k'"
    with pytest.raises(ValueError, match=allowed):
        hub.is_pretrained("in21k", spec)
    with pytest.raises(ValueError, match=r"Only .safetensors files.*'hf://timm/resnet18@main/pytorch_model.bin'"):
        hub.is_pretrained("hf://timm/resnet18@main/pytorch_model.bin", spec)
    with pytest.raises(ValueError, match=r"must look like 'hf://owner/repo'.*Received: weights='hf://timm'"):
        hub.is_pretrained("hf://timm", spec)
    pickle_file = tmp_path / "model.pth"
    pickle_file.write_bytes(b"not read")
    with pytest.raises(ValueError, match=r"never read\). Received: weights="):
        hub.is_pretrained(str(pickle_file), spec)


def test_hf_reference_parsing():
    assert sources.parse_hf("hf://timm/resnet50.a1_in1k") == sources.Source(hf_repo="timm/resnet50.a1_in1k")
    parsed = sources.parse_hf("hf://me/repo@0123abc/sub/w.safetensors")
    assert (parsed.hf_repo, parsed.revision, parsed.filename) == ("me/repo", "0123abc", "sub/w.safetensors")
    with pytest.raises(ValueError, match="relative path inside the repo"):
        sources.parse_hf("hf://me/repo@main/../../etc/x.safetensors")


def test_registry_covers_every_registered_model_with_published_weights():
    import timm.models._registry as timm_registry

    table = registry.load_registry()
    for spec in kr.specs.all_specs():
        timm_reference = (spec.reference or "") if spec.reference_source == "timm" else ""  # torchvision: own test
        published = [c for c in timm_registry.get_arch_pretrained_cfgs(timm_reference).values() if c.hf_hub_id]
        if published:
            assert spec.reference in table, f"rerun keras_resfamily/hub/generate_registry.py for {spec.name}"
            assert {e.tag for e in table[spec.reference]} == {c.tag for c in published}
        for entry in table.get(spec.reference_key, ()):  # include_top=False skips exactly the classifier
            assert reference_name(spec.classifier_name) == entry.classifier, spec.name
    weights = hub.list_weights("ResNet50")
    assert weights[0]["tag"] == "a1_in1k" and weights[0]["default"] and weights[0]["input_size"] == (224, 224, 3)
    # timm's results-imagenet.csv row: resnet50.a1_in1k,81.214,18.786,95.102,4.898,25.56,288,1.000,bicubic
    assert (weights[0]["top1"], weights[0]["top5"], weights[0]["eval_size"]) == (81.214, 95.102, 288)
    assert table["resnest50d"][0].source.hf_repo == "timm/resnest50d.in1k"


def test_cli_list_download_verify(fake_hub, capsys, monkeypatch):
    assert hub_cli(["list", "ResNet18"]) == 0
    assert "* a1_in1k" in capsys.readouterr().out
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal gets the progress bar
    assert hub_cli(["download", "ResNet18"]) == 0
    out, err = capsys.readouterr()
    path = out.splitlines()[0]
    assert path.endswith("model.safetensors") and "100%" in err  # the progress bar reached the end
    assert hub_cli(["verify"]) == 0
    assert capsys.readouterr().out.startswith("OK")
    with open(path, "r+b") as f:
        f.write(b"\x00" * 8)
    assert hub_cli(["verify", "ResNet18"]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_cli_convert_writes_loadable_keras_weights(fake_hub, resnet18, tmp_path, capsys):
    output = str(tmp_path / "resnet18_notop.weights.h5")
    assert hub_cli(["convert", "ResNet18", "a1_in1k", "--no-top", "--output", output]) == 0
    assert capsys.readouterr().out.strip() == output
    model = kr.ResNet18(weights=output, include_top=False, pooling="avg", input_shape=(SIZE, SIZE, 3))
    assert outputs_close(model(resnet18["images"], training=False), resnet18["pooled"])
