"""CLI: python -m keras_resfamily.export --model ResNet50 --weights imagenet --out models/resnet50/1"""

import argparse
import sys

from keras_resfamily.export import checks
from keras_resfamily.export.serving import export_serving


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_resfamily.export",
        description="Export a keras_resfamily classifier as a TF Serving SavedModel version directory.",
    )
    parser.add_argument("--model", required=True, help="registered model name, e.g. ResNet50 or resnet50")
    parser.add_argument("--weights", default=None,
                        help="'imagenet', a weight tag, or a .weights.h5 / .safetensors file (default: random init)")
    parser.add_argument("--out", required=True, help="version directory <model_base>/<integer version>")
    parser.add_argument("--image-size", type=int, default=None,
                        help="fixed input / crop size (default: the weights' pretrained config size)")
    parser.add_argument("--crop-pct", type=float, default=None, help="center-crop fraction for predict_images")
    parser.add_argument("--interpolation", default=None, choices=("bilinear", "bicubic"),
                        help="predict_images resize (default: the weights' pretrained config)")
    parser.add_argument("--classes", type=int, default=None, help="classifier size (default: the spec's)")
    parser.add_argument("--labels", default=None, help="text file with one class name per line")
    parser.add_argument("--top-k", type=int, default=None, help="classes returned by predict_images")
    parser.add_argument("--no-preprocessing", action="store_true",
                        help="serving_default takes already-normalised images instead of RGB in [0, 255]")
    parser.add_argument("--fold", action="store_true", help="re-parameterise (RepVGG, BN folding) first")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing version directory")
    return parser.parse_args(argv)


def _read_labels(path):
    if path is None:
        return None
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def main(argv=None):
    args = parse_args(argv)
    from keras_resfamily import create_model, get_spec

    # Unknown names and an occupied version directory fail here, before any download or build.
    spec = get_spec(args.model)
    checks.check_version_path(args.out, args.overwrite)
    if args.weights is None:
        print("warning: no --weights given: exporting randomly initialised weights", file=sys.stderr)
    size = args.image_size or checks.pretrained_data_config(spec, args.weights)["input_size"]
    model = create_model(spec.name, weights=args.weights, input_shape=(size, size, 3),
                         classes=args.classes or spec.num_classes)
    path = export_serving(
        model, args.out, spec=spec, weights=args.weights, include_preprocessing=not args.no_preprocessing,
        labels=_read_labels(args.labels), top_k=args.top_k, crop_pct=args.crop_pct,
        interpolation=args.interpolation, fold=args.fold, overwrite=args.overwrite,
    )
    print(f"Exported {spec.name} to {path} (signatures: serving_default, predict_images)")
    return path


if __name__ == "__main__":
    try:
        main()
    except ValueError as error:
        sys.exit(f"error: {error}")
