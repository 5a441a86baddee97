"""Dev-time script: regenerate data/reference_top1.json from timm's published validation results.

    git -C pytorch-image-models show COMMIT:results/results-imagenet.csv > results-imagenet.csv
    python keras_resfamily/hub/generate_top1.py results-imagenet.csv COMMIT

Keeps, for every checkpoint in data/pretrained_weights.json, the first row timm lists for it (the
CSV is sorted by top-1, so its best evaluation: size and crop_pct are recorded with the numbers).
The torchvision rows ("torchvision.<name>.<tag>", from torchvision's weights metadata) and keras.applications'
("keras.applications.<Name>.imagenet", from keras.io's table) are written by generate_registry.py through
`write_published_results` and kept here as they are.
"""

import csv
import json
import os
import sys

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
RESULTS_FILE = os.path.join(DATA_DIR, "reference_top1.json")
TORCHVISION = "torchvision."
KERAS_APPLICATIONS = "keras.applications."
OTHER_SOURCES = (TORCHVISION, KERAS_APPLICATIONS)  # rows generate_registry.py writes


def _read():
    with open(RESULTS_FILE) as f:
        return json.load(f)


def _write(data):
    with open(RESULTS_FILE, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def _other_rows(data):
    return {k: v for k, v in data["results"].items() if k.startswith(OTHER_SOURCES)}


def write_published_results(results, prefix, source_key, source_note):
    """Replace the rows of reference_top1.json whose key starts with `prefix` ("torchvision.") by `results`
    ("<prefix><name>.<tag>" -> crop_pct, img_size, top1, top5) and say where they come from under `source_key`;
    the other rows stay as they are."""
    data = _read()
    kept = {k: v for k, v in data["results"].items() if not k.startswith(prefix)}
    data = {**data, source_key: source_note, "results": dict(sorted({**kept, **results}.items()))}
    _write(data)
    print(f"wrote {len(results)} {prefix}* results to {RESULTS_FILE}")


def main(csv_path, commit):
    with open(os.path.join(DATA_DIR, "pretrained_weights.json")) as f:
        models = json.load(f)["models"]
    wanted = {f"{reference}.{row['tag']}" for reference, model in models.items() for row in model["weights"]
              if not reference.startswith(OTHER_SOURCES)}
    results = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["model"] in wanted and row["model"] not in results:
                results[row["model"]] = dict(crop_pct=float(row["crop_pct"]), img_size=int(row["img_size"]),
                                             top1=float(row["top1"]), top5=float(row["top5"]))
    found = len(results)
    old = _read() if os.path.exists(RESULTS_FILE) else {"results": {}}
    results.update(_other_rows(old))  # written by generate_registry.py: kept
    data = {
        "comment": "ImageNet-1k validation top-1/top-5 (%) as published by timm in results/results-imagenet.csv "
                   f"(huggingface/pytorch-image-models@{commit}), evaluated at img_size with crop_pct.",
        "source": f"https://github.com/huggingface/pytorch-image-models/blob/{commit}/results/results-imagenet.csv",
        **{key: old[key] for key in ("torchvision_source", "keras_applications_source") if key in old},
        "results": dict(sorted(results.items())),
    }
    _write(data)
    print(f"wrote {found} results of {len(wanted)} timm checkpoints, kept {len(results) - found} other results")


if __name__ == "__main__":
    main(*sys.argv[1:])
