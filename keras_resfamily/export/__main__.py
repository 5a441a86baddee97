"""CLI: python -m keras_resfamily.export --model ResNet50 --weights imagenet --out models/resnet50/1"""

import argparse
import sys

from keras_resfamily.export import checks
from keras_resfamily.export.serving import export_serving
from keras_resfamily.export.serving_module import DEFAULT_MAX_PIXELS

PROG = "python -m keras_resfamily.export"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG,
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
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help="predict_images refuses images whose header announces more than this many pixels "
                             "(height * width), before decoding them; stored in the SavedModel "
                             f"(default: {DEFAULT_MAX_PIXELS} = 2**26, full-size camera photos pass)")
    return parser.parse_args(argv)


def _read_labels(path):
    if path is None:
        return None
    checks.check_readable_file(path, "--labels")
    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"--labels: cannot read {path!r} as UTF-8 text: {error}") from None


def main(argv=None):
    args = parse_args(argv)
    from keras_resfamily import create_model, get_spec

    # Unknown names and an occupied version directory fail here, before any download or build.
    spec = get_spec(args.model)
    checks.check_version_path(args.out, args.overwrite)
    from keras_resfamily import hub

    hub.is_pretrained(args.weights, spec)  # a missing weights file or unknown tag
    labels = _read_labels(args.labels)
    checks.check_max_pixels(args.max_pixels)
    if args.weights is None:
        print("warning: no --weights given: exporting randomly initialised weights", file=sys.stderr)
    size = args.image_size or checks.pretrained_data_config(spec, args.weights)["input_size"]
    model = create_model(spec.name, weights=args.weights, input_shape=(size, size, 3),
                         classes=args.classes or spec.num_classes)
    path = export_serving(
        model, args.out, spec=spec, weights=args.weights, include_preprocessing=not args.no_preprocessing,
        labels=labels, top_k=args.top_k, crop_pct=args.crop_pct,
        interpolation=args.interpolation, fold=args.fold, overwrite=args.overwrite, max_pixels=args.max_pixels,
    )
    print(f"Exported {spec.name} to {path} (signatures: serving_default, predict_images)")
    return path


def cli(argv=None):
    """main() with bad input (ValueError) or an unusable file (OSError) as one `error:` line, exit status 2."""
    try:
        main(argv)
    except (ValueError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)  # argparse's format and status for usage errors
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
