"""Command-line flags generated from TrainConfig: --field-name VALUE for every field (--flag / --no-flag
for booleans), each with its field's description, default and allowed values, plus --config."""

import argparse
import typing

from .config import FIELDS, TrainConfig

PROG = "python -m keras_resfamily.training.train"


def _base_type(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if typing.get_origin(annotation) is typing.Union else annotation


def shown_default(value):
    """A default as the help text shows it."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value)


def build_parser(prog=PROG):
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train a keras_resfamily model with tf.distribute. Precedence: recipe < --config file "
                    "< flags given here. The effective configuration is written to <run_dir>/config.json.",
        argument_default=argparse.SUPPRESS,  # only flags that were given override the config file
    )
    parser.add_argument("--config", metavar="FILE", help="YAML or JSON file of TrainConfig fields (keys are "
                        "the field names, e.g. batch_size). Default: unset.")
    defaults = TrainConfig().to_dict()
    for field in FIELDS.values():
        kind = _base_type(field.type)
        flag = "--" + field.name.replace("_", "-")
        help_text = f"{field.metadata['help']} Default: {shown_default(defaults[field.name])}."
        options = dict(help=help_text.replace("%", "%%"))  # argparse formats help with %
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **options)
        elif typing.get_origin(kind) in (list, typing.List):
            parser.add_argument(flag, type=typing.get_args(kind)[0], nargs="+", **options)
        else:
            parser.add_argument(flag, type=kind, choices=field.metadata["choices"], **options)
    return parser


def parse_args(argv=None, prog=PROG):
    """-> (explicit field values, config file path or None)."""
    values = vars(build_parser(prog).parse_args(argv))
    config_file = values.pop("config", None)
    return values, config_file
