"""Command line: python -m keras_resfamily.hub list|download|convert|verify ... (`main` also serves
`keras-resfamily hub`)

    list [MODEL]                 models with published weights, or one model's checkpoints
    download MODEL [WEIGHTS]     fetch into the cache (WEIGHTS: imagenet, a tag or hf://...)
    convert MODEL [WEIGHTS]      fetch, convert and cache the Keras weights (--top/--no-top, --output)
    verify [MODEL]               re-hash cached checkpoints and converted weights against their
                                 recorded sha256 and validate the checkpoints (a torchvision .pth is
                                 parsed whole, running nothing); non-zero on any problem

The cache is $KERAS_RESFAMILY_HOME (default ~/.keras/keras_resfamily).
"""

import argparse
import os
import shutil
import sys

from keras_resfamily import hub
from keras_resfamily.hub import cache, registry
from keras_resfamily.hub.errors import CLI, download_command
from keras_resfamily.hub.sources import TORCH_SUFFIX, is_keras_h5
from keras_resfamily.hub.torch_pickle import UnsafeCheckpointError
from keras_resfamily.specs import all_specs, get_spec


def _list(args):
    if args.model:
        spec = get_spec(args.model)
        rows = hub.list_weights(spec.name)
        if not rows:
            print(registry.available_description(spec))
            return 0
        print(f"{spec.name} ({spec.reference_label}); 'imagenet' = {rows[0]['tag']}")
        print("\n".join(hub.describe_weights(row) for row in rows))
        return 0
    for spec in all_specs():
        entries = registry.entries_for(spec)
        if entries:
            print(f"{spec.name:<28} {spec.reference_key:<32} default {entries[0].tag:<24} {len(entries)} checkpoint(s)")
    return 0


def _download(args):
    path, sha256 = hub.download_weights(args.model, args.weights)  # progress bar only on a terminal
    print(f"{path}\nsha256 {sha256}")
    return 0


def _convert(args):
    import keras_resfamily

    if args.output and not args.output.endswith(hub.convert.SUFFIX):  # before any download
        raise ValueError(f"--output must end with {hub.convert.SUFFIX}; received --output={args.output!r}.")
    model = keras_resfamily.create_model(args.model, weights=args.weights, include_top=args.top)
    path, sha256 = hub.download_weights(args.model, args.weights, show_progress=False)
    converted = hub.convert.converted_path(path, get_spec(args.model), model, sha256)
    if args.output:
        shutil.copyfile(converted, args.output)
        converted = args.output
    print(converted)
    return 0


def _cached_files(model):
    """(path, registry Source or None, label) of each cached checkpoint and converted weights file,
    for one model or all."""
    specs = [get_spec(model)] if model else all_specs()
    known = {}
    for spec in specs:
        for entry in registry.entries_for(spec):
            known[cache.cache_path(entry.source)] = (entry.source, f"{spec.name} {entry.tag}")
    roots = sorted({os.path.dirname(p) for p in known}) if model else [cache.cache_home()]
    found = []
    for top in roots:
        for root, _, files in os.walk(top):
            for name in sorted(files):
                path = os.path.join(root, name)
                converted = name.endswith(hub.convert.SUFFIX) and ".tmp" not in name
                if name.endswith((".safetensors", TORCH_SUFFIX)) or is_keras_h5(name) or converted:
                    source, label = known.get(path, (None, os.path.relpath(path, cache.cache_home())))
                    found.append((path, source, label))
    return found


def _checkpoint_problem(path):
    """Why `path` (a checkpoint) is not a whole, plain one, or None. A .pth is parsed whole by the
    allow-list unpickler, which runs nothing."""
    if not (path.endswith((".safetensors", TORCH_SUFFIX)) or is_keras_h5(path)):  # converted: the record checks
        return None
    try:
        hub.convert.check_checkpoint(path)
    except UnsafeCheckpointError as error:
        return f"UNSAFE ({error})"
    except ValueError as error:
        return f"CORRUPT ({error})"
    return None


def _status(path, source):
    """(status, sha256); anything but OK is a failure. Converted weights need their record; checkpoints
    a known hash (matching a published prefix) and a whole structure (an unrecorded one is never
    trusted nor loaded)."""
    expected = (source and source.sha256) or cache.recorded_sha256(path)
    published_md5 = source.md5 if source else None  # keras.applications' .h5 files
    actual, md5 = cache.hashes_of(path, md5=bool(published_md5))
    if expected and actual != expected:
        return f"MISMATCH (expected {expected})", actual
    prefix = source and source.sha256_prefix
    if prefix and not actual.startswith(prefix):
        return f"MISMATCH (expected sha256 {prefix}..., published in the file name)", actual
    if md5 != published_md5:
        return f"MISMATCH (expected md5 {published_md5}, published by keras.applications)", actual
    problem = _checkpoint_problem(path)
    if problem:
        return problem, actual
    if expected is None:
        return "UNVERIFIED (no recorded sha256)", actual
    return "OK", actual


def _verify(args):
    failures = 0
    files = _cached_files(args.model)
    for path, source, label in files:
        status, actual = _status(path, source)
        failures += status != "OK"
        print(f"{status:<10} {label}  sha256 {actual}  {path}")
    if not files:
        print(f"No cached checkpoints under {cache.cache_home()}.")
    if failures:
        print(f"{failures} file(s) above cannot be trusted and are not loaded: converted weights are rebuilt on "
              f"the next load; delete a checkpoint and re-run `{download_command(weights='[WEIGHTS]')}` (or load it "
              "again) to download it again.")
    return 1 if failures else 0


MODEL_HELP = ("A model's constructor or reference name, case-insensitive, e.g. ResNet50 or resnet50 "
              "(`list` prints those with published weights).")
WEIGHTS_HELP = ("Which checkpoint: imagenet (the model's default one), one of its tags (`list MODEL` prints "
                "them, e.g. a1_in1k or IMAGENET1K_V2), hf://owner/repo[@revision][/file.safetensors], or an "
                "https URL of a .safetensors file. Default: imagenet.")


def build_parser(prog=None):
    """The command line's parser; `prog` is how usage lines name the command (default: CLI)."""
    parser = argparse.ArgumentParser(
        prog=prog or CLI, description="List, download, convert and verify the pretrained weights of keras_resfamily.",
        epilog=f"Files are cached under ${cache.HOME_ENV} (default ~/.keras/keras_resfamily). "
               f"{' or '.join(f'{name}=1' for name in cache.OFFLINE_ENVS)} forbids downloads; HF_ENDPOINT "
               "selects a Hugging Face mirror.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, text):
        return commands.add_parser(name, help=text, description=text)

    listing = command("list", "List the models with published weights, or one model's checkpoints.")
    listing.add_argument("model", nargs="?", help=f"{MODEL_HELP} Default: list every model with published weights.")
    for name, text in (("download", "Download a checkpoint into the cache and verify it; prints its path and sha256."),
                       ("convert", "Download a checkpoint and convert it to Keras weights (cached beside it); "
                                   "prints their path.")):
        parser_of = command(name, text)
        parser_of.add_argument("model", help=MODEL_HELP)
        parser_of.add_argument("weights", nargs="?", default="imagenet", help=WEIGHTS_HELP)
    convert = commands.choices["convert"]
    convert.add_argument("--top", action=argparse.BooleanOptionalAction, default=True,
                         help="Keep the classifier (--top) or convert the backbone only (--no-top). Default: --top.")
    convert.add_argument("--output", metavar="PATH.weights.h5",
                         help="Also copy the converted weights to this path, which must end with .weights.h5. "
                              "Default: none (only the cached copy).")
    verify = command("verify", "Re-hash cached checkpoints and converted weights against their recorded sha256 and "
                               "check each checkpoint is whole; exits 1 on any problem.")
    verify.add_argument("model", nargs="?", help=f"{MODEL_HELP} Default: every file in the cache.")
    return parser


def main(argv=None, prog=None):
    """Run the command line on `argv` (default: sys.argv[1:]); returns the exit code (0: done, 1: verify
    found a problem, 2: an error, printed to stderr). `prog` names the command in usage lines."""
    try:
        args = build_parser(prog).parse_args(argv)
    except SystemExit as stop:  # --help, or bad arguments (argparse printed why)
        return stop.code
    handler = {"list": _list, "download": _download, "convert": _convert, "verify": _verify}[args.command]
    try:
        return handler(args)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
