"""Command-line flags generated from TrainConfig: --field-name VALUE for every field, plus --config."""

import argparse
import typing

from .config import FIELDS, TrainConfig


def _bool(text):
    lowered = str(text).lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, received {text!r}")


def _base_type(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if typing.get_origin(annotation) is typing.Union else annotation


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train a keras_resfamily model with tf.distribute. Precedence: recipe < --config file "
                    "< flags given here. The effective configuration is written to <run_dir>/config.json.",
        argument_default=argparse.SUPPRESS,  # only flags that were given override the config file
    )
    parser.add_argument("--config", help="YAML or JSON file of TrainConfig fields")
    defaults = TrainConfig().to_dict()
    for field in FIELDS.values():
        kind = _base_type(field.type)
        flag = "--" + field.name.replace("_", "-")
        help_text = f"default: {defaults[field.name]!r}"
        if kind is bool:
            parser.add_argument(flag, type=_bool, nargs="?", const=True, help=help_text)
        elif typing.get_origin(kind) in (list, typing.List):
            parser.add_argument(flag, type=int, nargs="+", help=help_text)
        else:
            parser.add_argument(flag, type=kind, help=help_text)
    return parser


def parse_args(argv=None):
    """-> (explicit field values, config file path or None)."""
    values = vars(build_parser().parse_args(argv))
    config_file = values.pop("config", None)
    return values, config_file
