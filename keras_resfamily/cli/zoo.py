"""`keras-resfamily list [PATTERN]` and `keras-resfamily info MODEL`: the zoo from the registry, building nothing."""

import argparse
import csv
import io

from keras_resfamily.hub import describe_weights, list_weights
from keras_resfamily.model_stats import model_stats
from keras_resfamily.specs import get_spec, list_models

COLUMNS = ("Model", "Family", "Params (M)", "GMACs", "Size", "Reference", "Top-1", "Weights")


def zoo_rows(pattern=None):
    """One dict per registered model matching `pattern` (case-insensitive glob), in registry order."""
    stats = model_stats()
    rows = []
    for name in list_models(pattern):
        spec, counts = get_spec(name), stats.get(name, {})
        weights = list_weights(name)
        rows.append({
            "Model": name, "Family": spec.family,
            "Params (M)": f"{counts['params'] / 1e6:.2f}" if counts else "?",
            "GMACs": f"{counts['gmacs']:.2f}" if counts else "?",
            "Size": str(spec.default_size),
            "Reference": spec.reference_label if spec.reference else "paper",
            "Top-1": f"{weights[0]['top1']:.1f}" if weights and weights[0].get("top1") else "-",
            # the default ('imagenet') tag first, marked with *
            "Weights": " ".join(("*" if row["default"] else "") + row["tag"] for row in weights) or "-",
        })
    return rows


def format_rows(rows, style):
    if style == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    if style == "markdown":
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        return "\n".join(lines + ["| " + " | ".join(row[c] for c in COLUMNS) + " |" for row in rows])
    widths = {c: max([len(c)] + [len(row[c]) for row in rows]) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip()]
    return "\n".join(lines + ["  ".join(row[c].ljust(widths[c]) for c in COLUMNS).rstrip() for row in rows])


def list_main(argv=None, prog="keras-resfamily list"):
    parser = argparse.ArgumentParser(
        prog=prog, description="The model zoo: every registered model with its trainable parameters, GMACs at "
        "its default input size, the reference it equals, the reference's published top-1 of the default weights "
        "and its pretrained weights tags (* marks the one weights='imagenet' loads). Builds no model.")
    parser.add_argument("pattern", nargs="?", default=None,
                        help="Case-insensitive shell-style pattern of model names, e.g. 'resnest*' "
                             "(default: every model).")
    parser.add_argument("--format", choices=("table", "markdown", "csv"), default="table",
                        help="Output format: aligned text, a markdown table or CSV (default: table).")
    args = parser.parse_args(argv)
    rows = zoo_rows(args.pattern)
    if not rows:
        parser.error(f"no registered model matches {args.pattern!r}; `{prog}` without a pattern lists all "
                     f"{len(list_models())}.")
    print(format_rows(rows, args.format))
    return 0


def info_text(name):
    spec = get_spec(name)
    counts = model_stats().get(spec.name)
    lines = [f"{spec.name}: {spec.summary()}", f"  family      {spec.family}"]
    if spec.reference:
        lines.append(f"  reference   {spec.reference_label} (create_model also takes {spec.reference_key!r})")
    else:
        lines.append("  reference   none: built from the paper, checked against its published parameter count")
    if spec.paper:
        lines.append(f"  paper       {spec.paper}")
    if counts:
        lines.append(f"  params      {counts['params']:,} trainable; {counts['gmacs']:.3f} GMACs at "
                     f"{counts['input_size']}x{counts['input_size']}")
    lines.append(f"  input       default {spec.default_size}x{spec.default_size}, at least {spec.min_size}x{spec.min_size}; "
                 f"RGB normalised with mean {spec.mean}, std {spec.std} (keras_resfamily.preprocess_input)")
    for argument, (default, description) in spec.variant_arguments().items():
        lines.append(f"  {argument}={default!r}: {description}")
    weights = list_weights(spec.name)
    if weights:
        lines.append(f"  weights     ('imagenet' = {weights[0]['tag']})")
        lines += [describe_weights(row) for row in weights]
    else:
        lines.append("  weights     none published: weights=None (random initialisation) only")
    lines.append(f"  use         keras_resfamily.{spec.name}(weights={'imagenet' if weights else None!r}) or "
                 f"keras-resfamily predict {spec.name} IMAGE")
    return "\n".join(lines)


def info_main(argv=None, prog="keras-resfamily info"):
    parser = argparse.ArgumentParser(
        prog=prog, description="One model: what it computes, its reference, parameter and GMAC counts, input "
        "sizes, its own arguments and every pretrained weights tag with its preprocessing. Builds no model.")
    parser.add_argument("model", help="A constructor name (ResNet50) or the reference's name (resnet50, "
                                      "torchvision.resnet50); `list` shows them all.")
    args = parser.parse_args(argv)
    try:
        print(info_text(args.model))
    except ValueError as error:
        parser.error(str(error))
    return 0
