"""The `keras-resfamily` command: one name for the zoo listing, predictions, training, export, hub and bench.

    keras-resfamily [--verbose] COMMAND [ARGS...]      (also: python -m keras_resfamily COMMAND ...)

`list`, `info` and `predict` are defined here; `train`, `export`, `hub` and `bench` are the package's
existing entry points, reached under this one name with their own options (`COMMAND --help`).
"""

import importlib
import sys

# name: (module with main(argv, prog), one-line description); every main returns an exit code
COMMANDS = {
    "list": ("keras_resfamily.cli.zoo:list_main", "the model zoo: params, GMACs, reference and weights tags"),
    "info": ("keras_resfamily.cli.zoo:info_main", "one model: its reference, sizes, arguments and weights"),
    "predict": ("keras_resfamily.cli.predict:main", "classify JPEG/PNG/GIF/BMP/WebP files, with the weights' own preprocessing"),
    "train": ("keras_resfamily.training.train:main", "train and evaluate a model (tf.distribute, mixed precision)"),
    "export": ("keras_resfamily.export.__main__:main", "write a TF Serving SavedModel"),
    "hub": ("keras_resfamily.hub.__main__:main", "list, download, convert and verify pretrained weights"),
    "bench": ("keras_resfamily.bench.__main__:main", "GMACs, speed and memory, optionally beside timm"),
}
PROG = "keras-resfamily"


def usage():
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROG} [--verbose] COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {description}" for name, (_, description) in COMMANDS.items()]
    lines += ["", f"Run `{PROG} COMMAND --help` for a command's options. TensorFlow's start-up log lines are",
              "hidden unless --verbose is given before COMMAND."]
    return "\n".join(lines)


def main(argv=None):
    """Dispatch to a command's main; returns its exit code (2 for an unknown command)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    while argv[:1] == ["--verbose"]:  # the global flag comes before COMMAND (`train --verbose 2` is train's own)
        argv.pop(0)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"{usage()}\n\n{PROG}: error: unknown command {name!r}; choose from {', '.join(COMMANDS)}.",
              file=sys.stderr)
        return 2
    module, function = COMMANDS[name][0].split(":")
    code = getattr(importlib.import_module(module), function)(rest, prog=f"{PROG} {name}")
    return code or 0
