"""CLI: python -m keras_resfamily.export --model ResNet50 --weights imagenet --out models/resnet50/1"""

import argparse
import sys

from keras_resfamily.export import checks
from keras_resfamily.export.serving import export_serving
from keras_resfamily.export.serving_module import DEFAULT_MAX_PIXELS

PROG = "python -m keras_resfamily.export"


def parse_args(argv=None, prog=PROG):
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Export a keras_resfamily classifier as a TF Serving SavedModel version directory, with a "
                    "serving_default signature (image tensors) and predict_images (encoded image bytes).",
    )
    parser.add_argument("--model", required=True,
                        help="Model to export: a constructor name (ResNet50) or the reference's name (resnet50). Required.")
    parser.add_argument("--weights", default=None,
                        help="'imagenet', a pretrained tag (`keras-resfamily info MODEL` lists them) or a local "
                             ".weights.h5 / .safetensors file. Default: none (random initialisation, with a warning).")
    parser.add_argument("--out", required=True,
                        help="Version directory to write, <model_base>/<integer version> as TF Serving expects. Required.")
    parser.add_argument("--image-size", type=int, default=None,
                        help="Fixed input and crop size in pixels. Default: the weights' evaluation size, else "
                             "the model's default size.")
    parser.add_argument("--crop-pct", type=float, default=None,
                        help="Centre-crop fraction of predict_images, in (0, 1]. Default: the weights' own, else 0.875.")
    parser.add_argument("--interpolation", default=None, choices=("bilinear", "bicubic"),
                        help="Resize filter of predict_images. Default: the weights' own, else bilinear.")
    parser.add_argument("--classes", type=int, default=None,
                        help="Classifier size. Default: the model's (1000 for ImageNet weights).")
    parser.add_argument("--labels", default=None,
                        help="UTF-8 text file with one class name per line, returned by predict_images. "
                             "Default: ImageNet's labels for 1000 classes, else class indices.")
    parser.add_argument("--top-k", type=int, default=None,
                        help="Classes predict_images returns per image, 1 to --classes. Default: 5, at most --classes.")
    parser.add_argument("--preprocessing", action=argparse.BooleanOptionalAction, default=True,
                        help="serving_default takes RGB in [0, 255] and normalises it itself; --no-preprocessing: it "
                             "takes already-normalised images. Default: on.")
    parser.add_argument("--fold", action=argparse.BooleanOptionalAction, default=False,
                        help="Fold BatchNorm into the convolutions and re-parameterise RepVGG blocks first "
                             "(keras_resfamily.deploy): the same outputs, faster. Default: off.")
    parser.add_argument("--overwrite", action=argparse.BooleanOptionalAction, default=False,
                        help="Replace an existing version directory. Default: off (an existing one is an error).")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help="predict_images refuses images whose header announces more than this many pixels "
                             "(height * width), before decoding them; stored in the SavedModel. "
                             f"Default: {DEFAULT_MAX_PIXELS} = 2**26 (full-size camera photos pass).")
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


def main(argv=None, prog=PROG):
    args = parse_args(argv, prog)
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
        model, args.out, spec=spec, weights=args.weights, include_preprocessing=args.preprocessing,
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
