"""`keras-resfamily predict MODEL IMAGE...`: top-k ImageNet labels for image files, preprocessed as the weights
were evaluated (keras_resfamily.images)."""

import argparse
import json
import sys

import numpy as np

from keras_resfamily import hub
from keras_resfamily.images import load_images, preprocessing_for
from keras_resfamily.specs import get_spec


def top_k(probabilities, k):
    """[(index, label, score)] of the k highest scores; ImageNet labels for a 1000-class output."""
    from keras_resfamily.preprocessing import imagenet_classes

    names = imagenet_classes() if probabilities.shape[-1] == 1000 else None
    order = np.argsort(-probabilities)[:k]
    return [(int(i), names[i][1] if names else f"class {i}", float(probabilities[i])) for i in order]


def parse_args(argv, prog):
    parser = argparse.ArgumentParser(
        prog=prog, description="Classify image files with a model and print the top-k labels and scores of each. "
        "The images are preprocessed as the weights were evaluated (their input size, crop_pct, interpolation, "
        "mean and std; `info MODEL` lists them).")
    parser.add_argument("model", help="A constructor name (ResNet50) or the reference's name (resnet50).")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="JPEG, PNG, GIF (first frame), BMP or WebP files.")
    parser.add_argument("--weights", default="imagenet",
                        help="'imagenet' (the model's default checkpoint, downloaded once and cached), a "
                             "pretrained tag from `info MODEL`, a local .weights.h5 / .safetensors file, or 'none' "
                             "for random weights (a smoke test: the labels are meaningless). Default: imagenet.")
    parser.add_argument("--top-k", type=int, default=5, help="Labels printed per image, 1 to the number of classes "
                                                             "(default: 5).")
    parser.add_argument("--size", type=int, default=None,
                        help="Crop size in pixels, at least the model's minimum (default: the weights' evaluation "
                             "size, else the model's default size).")
    parser.add_argument("--json", action=argparse.BooleanOptionalAction, default=False,
                        help="Print one JSON list of {image, top_k: [{index, label, score}]} instead of text. "
                             "Default: off.")
    return parser, parser.parse_args(argv)


def main(argv=None, prog="keras-resfamily predict"):
    parser, args = parse_args(argv, prog)
    weights = None if args.weights.lower() == "none" else args.weights
    if args.top_k < 1:
        parser.error(f"--top-k must be at least 1; received {args.top_k}.")
    try:
        spec = get_spec(args.model)
        size = preprocessing_for(spec.name, weights, args.size).size
        if size < spec.min_size:
            raise ValueError(f"--size must be at least {spec.min_size} for {spec.name}; received {size}.")
        images = load_images(args.images, spec.name, weights, args.size)
    except ValueError as error:
        parser.error(str(error))
    from keras_resfamily import create_model

    try:
        model = create_model(spec.name, weights=weights, input_shape=(size, size, 3))
    except (OSError, hub.CorruptWeightsError, hub.UnsafeCheckpointError) as error:  # download, cache, checksum
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    probabilities = np.asarray(model.predict(images, verbose=0), dtype="float64")
    if args.top_k > probabilities.shape[-1]:  # below 1: refused by parse_args
        parser.error(f"--top-k must be between 1 and {probabilities.shape[-1]}; received {args.top_k}.")
    results = [{"image": path, "top_k": [dict(index=i, label=label, score=round(score, 6))
                                         for i, label, score in top_k(row, args.top_k)]}
               for path, row in zip(args.images, probabilities)]
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    if weights is None:
        print("(random weights: these labels mean nothing; drop --weights none for the pretrained ones)")
    for result in results:
        print(result["image"])
        for rank, row in enumerate(result["top_k"], 1):
            print(f"  {rank}. {row['label']:<32} {row['score']:.4f}")
    return 0
