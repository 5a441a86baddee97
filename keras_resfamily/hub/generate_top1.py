"""Dev-time script: regenerate data/reference_top1.json from timm's published validation results.

    git -C pytorch-image-models show COMMIT:results/results-imagenet.csv > results-imagenet.csv
    python keras_resfamily/hub/generate_top1.py results-imagenet.csv COMMIT

Keeps, for every checkpoint in data/pretrained_weights.json, the first row timm lists for it (the
CSV is sorted by top-1, so its best evaluation: size and crop_pct are recorded with the numbers).
"""

import csv
import json
import os
import sys

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def main(csv_path, commit):
    with open(os.path.join(DATA_DIR, "pretrained_weights.json")) as f:
        models = json.load(f)["models"]
    wanted = {f"{reference}.{row['tag']}" for reference, model in models.items() for row in model["weights"]}
    results = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["model"] in wanted and row["model"] not in results:
                results[row["model"]] = dict(crop_pct=float(row["crop_pct"]), img_size=int(row["img_size"]),
                                             top1=float(row["top1"]), top5=float(row["top5"]))
    data = {
        "comment": "ImageNet-1k validation top-1/top-5 (%) as published by timm in results/results-imagenet.csv "
                   f"(huggingface/pytorch-image-models@{commit}), evaluated at img_size with crop_pct.",
        "source": f"https://github.com/huggingface/pytorch-image-models/blob/{commit}/results/results-imagenet.csv",
        "results": dict(sorted(results.items())),
    }
    with open(os.path.join(DATA_DIR, "reference_top1.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {len(results)} results of {len(wanted)} checkpoints")


if __name__ == "__main__":
    main(*sys.argv[1:])
