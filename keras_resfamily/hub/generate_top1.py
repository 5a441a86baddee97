"""Dev-time script: regenerate data/reference_top1.json from timm's published validation results.

    git -C pytorch-image-models show COMMIT:results/results-imagenet.csv > results-imagenet.csv
    python keras_resfamily/hub/generate_top1.py results-imagenet.csv COMMIT

Keeps, for every checkpoint in data/pretrained_weights.json, the first row timm lists for it (the
CSV is sorted by top-1, so its best evaluation: size and crop_pct are recorded with the numbers).
The torchvision rows ("torchvision.<name>.<tag>", from torchvision's weights metadata) are written by
generate_registry.py through `write_torchvision_results` and kept here as they are.
"""

import csv
import json
import os
import sys

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
RESULTS_FILE = os.path.join(DATA_DIR, "reference_top1.json")
TORCHVISION = "torchvision."


def _read():
    with open(RESULTS_FILE) as f:
        return json.load(f)


def _write(data):
    with open(RESULTS_FILE, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def _torchvision_rows(data):
    return {k: v for k, v in data["results"].items() if k.startswith(TORCHVISION)}


def write_torchvision_results(results, torchvision_version):
    """Replace the torchvision rows of reference_top1.json by `results` ("torchvision.<name>.<tag>" ->
    crop_pct, img_size, top1, top5); timm's rows stay as they are."""
    data = _read()
    kept = {k: v for k, v in data["results"].items() if not k.startswith(TORCHVISION)}
    data = dict(
        comment=data["comment"], source=data["source"],
        torchvision_source=f"torchvision {torchvision_version}: meta['_metrics']['ImageNet-1K'] (acc@1, acc@5) of "
                           "each weights enum member, evaluated at img_size with crop_pct (its transforms).",
        results=dict(sorted({**kept, **results}.items())),
    )
    _write(data)
    print(f"wrote {len(results)} torchvision results to {RESULTS_FILE}")


def main(csv_path, commit):
    with open(os.path.join(DATA_DIR, "pretrained_weights.json")) as f:
        models = json.load(f)["models"]
    wanted = {f"{reference}.{row['tag']}" for reference, model in models.items() for row in model["weights"]
              if not reference.startswith(TORCHVISION)}
    results = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["model"] in wanted and row["model"] not in results:
                results[row["model"]] = dict(crop_pct=float(row["crop_pct"]), img_size=int(row["img_size"]),
                                             top1=float(row["top1"]), top5=float(row["top5"]))
    found = len(results)
    old = _read() if os.path.exists(RESULTS_FILE) else {"results": {}}
    results.update(_torchvision_rows(old))  # written by generate_registry.py: kept
    data = {
        "comment": "ImageNet-1k validation top-1/top-5 (%) as published by timm in results/results-imagenet.csv "
                   f"(huggingface/pytorch-image-models@{commit}), evaluated at img_size with crop_pct.",
        "source": f"https://github.com/huggingface/pytorch-image-models/blob/{commit}/results/results-imagenet.csv",
        **({"torchvision_source": old["torchvision_source"]} if "torchvision_source" in old else {}),
        "results": dict(sorted(results.items())),
    }
    _write(data)
    print(f"wrote {found} results of {len(wanted)} timm checkpoints, kept {len(results) - found} torchvision results")


if __name__ == "__main__":
    main(*sys.argv[1:])
