"""Dev-time script: regenerate the weights registry JSON from timm's pretrained configs,
torchvision's weights enums and keras.applications' published files.

    python keras_resfamily/hub/generate_registry.py

Run it as a file, not with `-m`: `-m` imports keras_resfamily (TensorFlow) before timm (torch),
which crashes. Needs timm and torchvision (test dependencies); the runtime only reads the JSON it
writes. torchvision rows are keyed by their reference_key ("torchvision.mobilenet_v2"), one entry per
weights enum member (tag = its name, "IMAGENET1K_V2"); their `.pth` files carry no full hash, only
the first hex digits of their sha256 in the file name, stored as `sha256_prefix` (what torch.hub
checks). Their published top-1/top-5 go into data/reference_top1.json (timm's rows there are kept). timm publishes no
content hashes in its configs and the weights cannot be downloaded where this runs, so `sha256` is
written as null: downloads are then checked against the hash the Hugging Face hub advertises
(X-Linked-Etag) and recorded. Fill a hash in by hand (`python -m keras_resfamily.hub verify`
prints it) to pin it. Revisions are "main" for the same reason. keras.applications rows
("keras.applications.ResNet50V2") have one entry, tag "imagenet": the .h5 file keras downloads, checked against the
md5 keras publishes for it (its `WEIGHTS_HASHES`), with keras.io's top-1 / top-5.
"""

import json
import os
import sys

import timm  # noqa: F401  (before TensorFlow: importing torch after it crashes)
import timm.models._registry as timm_registry
import torch
import torchvision

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# timm names of rows other modules register; listed so their entries exist before the rows land.
EXTRA_REFERENCES = (
    "resnest14d resnest26d resnest50d resnest101e resnest200e resnest269e resnest50d_1s4x24d "
    "resnest50d_4s2x40d skresnet18 skresnet34 skresnet50 skresnet50d skresnext50_32x4d "
    "res2net50_26w_4s res2net50_26w_6s res2net50_26w_8s res2net50_48w_2s res2net50_14w_8s "
    "res2net101_26w_4s res2next50 res2net50d res2net101d repvgg_a0 repvgg_a1 repvgg_a2 repvgg_b0 "
    "repvgg_b1 repvgg_b1g4 repvgg_b2 repvgg_b2g4 repvgg_b3 repvgg_b3g4 gcresnet50t gcresnext50ts"
).split()
OUTPUT = os.path.join(REPO_ROOT, "keras_resfamily", "data", "pretrained_weights.json")
TORCHVISION_LICENSE = "bsd-3-clause"
# keras.applications' files: reference -> (module of keras.src.applications with BASE_WEIGHTS_PATH and WEIGHTS_HASHES,
# the file's weights name, keras.io's top-1 and top-5 (%), single center crop at 224).
KERAS_APPLICATIONS = {
    "ResNet50V2": ("resnet", "resnet50v2", 76.0, 93.0),
    "ResNet101V2": ("resnet", "resnet101v2", 77.2, 93.8),
    "ResNet152V2": ("resnet", "resnet152v2", 78.0, 94.2),
}
KERAS_RESULTS_SOURCE = ("keras.io/api/applications (keras-io templates/api/applications/index.md): Top-1 / Top-5 "
                        "Accuracy, single center crop; crop_pct 0.875 (256 -> 224) assumed, keras states none.")


def published_prefix(filename):
    from keras_resfamily.hub.sources import published_prefix as prefix  # after torch: imports TensorFlow

    return prefix(filename)


def entry_from_cfg(tag, cfg):
    """One registry entry, or None when timm has no safetensors file for the tag."""
    if cfg.custom_load:
        return None
    if cfg.hf_hub_id:
        source = dict(hf_repo=cfg.hf_hub_id, filename=cfg.hf_hub_filename or "model.safetensors",
                      revision="main", url=None)
    elif cfg.url and cfg.url.endswith(".safetensors"):
        source = dict(hf_repo=None, filename=cfg.url.rsplit("/", 1)[-1], revision=None, url=cfg.url)
    elif cfg.url and published_prefix(cfg.url.rsplit("/", 1)[-1]):
        # A .pth whose name publishes its sha256 prefix (legacy_xception's, on GitHub releases): served
        # like torchvision's, checked against the prefix and read without running its pickle.
        filename = cfg.url.rsplit("/", 1)[-1]
        source = dict(hf_repo=None, filename=filename, revision=None, url=cfg.url,
                      sha256_prefix=published_prefix(filename))
    else:  # untrained, or a pickled .pth with nothing to check it against (never read)
        return None
    if not source["filename"].endswith((".safetensors", ".pth")):
        return None
    return dict(
        tag=tag, **source, sha256=None, input_size=list(cfg.input_size), crop_pct=cfg.crop_pct,
        interpolation=cfg.interpolation, mean=list(cfg.mean), std=list(cfg.std),
        num_classes=cfg.num_classes, license=cfg.license, classifier=cfg.classifier,
    )


def model_entries(reference):
    default_cfg = timm_registry._model_default_cfgs.get(reference)
    if default_cfg is None:
        return None
    entries = []
    for tag in default_cfg.tags:  # timm's order: the first is its default
        entry = entry_from_cfg(tag, timm_registry.get_pretrained_cfg(f"{reference}.{tag}"))
        if entry is not None:
            entries.append(entry)
    if not entries:
        return None
    return {"default": entries[0]["tag"], "weights": entries}


def torchvision_classifier(name, num_classes):
    """Key prefix of the classifier: the last Linear (or SqueezeNet's 1x1 Conv2d) with `num_classes`
    outputs ("classifier.3")."""
    with torch.device("meta"):  # no memory, no initialisation: only the module names are needed
        model = torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    outputs = {torch.nn.Linear: "out_features", torch.nn.Conv2d: "out_channels"}
    classifiers = [n for n, m in model.named_modules()
                   if type(m) in outputs and getattr(m, outputs[type(m)]) == num_classes]
    if not classifiers:
        raise ValueError(f"torchvision {name} has no Linear or Conv2d with {num_classes} outputs; received modules "
                         f"{[n for n, _ in model.named_modules()][-5:]}")
    return classifiers[-1]


def torchvision_entry(weights, classifier):
    """One registry entry of a torchvision weights enum member."""
    transforms = weights.transforms()
    crop, resize = transforms.crop_size[0], transforms.resize_size[0]
    filename = weights.url.rsplit("/", 1)[-1]
    prefix = published_prefix(filename)
    if prefix is None:  # nothing to check the download against: never serve it
        raise ValueError(f"{weights.url} has no sha256 prefix in its file name (name-<hex>.pth)")
    return dict(
        tag=weights.name, hf_repo=None, filename=filename, revision=None, url=weights.url, sha256=None,
        sha256_prefix=prefix, input_size=[3, crop, crop], crop_pct=crop / resize,
        interpolation=transforms.interpolation.value, mean=list(transforms.mean), std=list(transforms.std),
        num_classes=len(weights.meta["categories"]), license=TORCHVISION_LICENSE, classifier=classifier,
    )


def torchvision_result(weights):
    """The published ImageNet-1k accuracy of a weights enum member, as reference_top1.json holds it."""
    transforms = weights.transforms()
    metrics = weights.meta["_metrics"]["ImageNet-1K"]
    crop, resize = transforms.crop_size[0], transforms.resize_size[0]
    return dict(crop_pct=crop / resize, img_size=crop, top1=metrics["acc@1"], top5=metrics["acc@5"])


def torchvision_models(references):
    """reference key -> registry model, and "<key>.<tag>" -> published result, of torchvision names."""
    models, results = {}, {}
    for reference in references:
        key = f"torchvision.{reference}"
        enum = torchvision.models.get_model_weights(reference)
        members = list(enum)
        classifier = torchvision_classifier(reference, len(members[0].meta["categories"]))
        models[key] = {"default": enum.DEFAULT.name, "weights": [torchvision_entry(w, classifier) for w in members]}
        results.update({f"{key}.{w.name}": torchvision_result(w) for w in members})
    return models, results


def keras_applications_models(references):
    """reference key -> registry model, and "<key>.imagenet" -> published result, of keras.applications names."""
    import importlib

    models, results = {}, {}
    for reference in references:
        module_name, weights_name, top1, top5 = KERAS_APPLICATIONS[reference]
        module = importlib.import_module(f"keras.src.applications.{module_name}")
        filename = f"{weights_name}_weights_tf_dim_ordering_tf_kernels.h5"
        key = f"keras.applications.{reference}"
        models[key] = {"default": "imagenet", "weights": [dict(
            tag="imagenet", hf_repo=None, filename=filename, revision=None, url=module.BASE_WEIGHTS_PATH + filename,
            sha256=None, md5=module.WEIGHTS_HASHES[weights_name][0], input_size=[3, 224, 224], crop_pct=0.875,
            interpolation="bilinear", mean=[0.5] * 3, std=[0.5] * 3, num_classes=1000, license=None,
            classifier="predictions")]}
        results[f"{key}.imagenet"] = dict(crop_pct=0.875, img_size=224, top1=top1, top5=top5)
    return models, results


def format_registry(data):
    """JSON with one line per weights entry: readable diffs when timm adds a tag."""
    lines = ["{", f' "comment": {json.dumps(data["comment"])},',
             f' "timm_version": {json.dumps(data["timm_version"])},',
             f' "torchvision_version": {json.dumps(data["torchvision_version"])},',
             f' "keras_version": {json.dumps(data["keras_version"])},', ' "models": {']
    models = list(data["models"].items())
    for i, (reference, model) in enumerate(models):
        lines.append(f'  {json.dumps(reference)}: {{"default": {json.dumps(model["default"])}, "weights": [')
        entries = [f"   {json.dumps(entry)}" for entry in model["weights"]]
        lines.append(",\n".join(entries))
        lines.append("  ]}" + ("," if i < len(models) - 1 else ""))
    lines += [" }", "}", ""]
    return "\n".join(lines)


def main(output=OUTPUT):
    sys.path.insert(0, REPO_ROOT)
    import keras_resfamily
    from keras_resfamily.hub import generate_top1

    specs = keras_resfamily.specs.all_specs()
    references = {s.reference for s in specs if s.reference_source == "timm" and s.reference}
    references.update(EXTRA_REFERENCES)
    models = {}
    for reference in sorted(references):
        entries = model_entries(reference)
        if entries:
            models[reference] = entries
    tv_references = {s.reference for s in specs if s.reference_source == "torchvision"}
    tv_models, tv_results = torchvision_models(sorted(tv_references))
    keras_models, keras_results = keras_applications_models(
        sorted(s.reference for s in specs if s.reference_source == "keras.applications"))
    models = dict(sorted({**models, **tv_models, **keras_models}.items()))
    tv_version = torchvision.__version__.split("+")[0]  # without the local build tag (+cu130)
    data = {
        "comment": "Generated by keras_resfamily/hub/generate_registry.py from timm's pretrained cfgs, torchvision's "
                   "weights enums and keras.applications' published files.",
        "timm_version": timm.__version__,
        "torchvision_version": tv_version,
        "keras_version": keras_resfamily.specs.keras.__version__,
        "models": models,
    }
    with open(output, "w") as f:
        f.write(format_registry(data))
    print(f"wrote {len(models)} models, {sum(len(m['weights']) for m in models.values())} entries to {output}")
    generate_top1.write_published_results(
        tv_results, "torchvision.", "torchvision_source",
        f"torchvision {tv_version}: meta['_metrics']['ImageNet-1K'] (acc@1, acc@5) of each weights enum member, "
        "evaluated at img_size with crop_pct (its transforms).")
    generate_top1.write_published_results(keras_results, "keras.applications.", "keras_applications_source",
                                          KERAS_RESULTS_SOURCE)


if __name__ == "__main__":
    main(*sys.argv[1:])
