"""README.md's code blocks run as written, so the README cannot rot.

What is checked, block by block (fenced blocks, by their language tag):

- ```python blocks are executed in README order, chained in ONE namespace: the README reads as one
  session (the later blocks use `kr`, `images` and `model` from the earlier ones, as a user copying
  them top to bottom would). They run in a temporary working directory (the export block writes
  `models/resnet50/1` there) against an empty, offline weights cache, so a download the table below
  does not replace fails at once, naming the file, instead of reaching for the network.
  Substitutions: only `weights=` values that would download a checkpoint are replaced, by
  `weights=None`, through the explicit table SUBSTITUTIONS. Each original string must occur exactly
  once, so a README edit that removes or duplicates one fails loudly instead of silently running
  something else, and each replaced value must name a published checkpoint of its model in the
  registry (resolved offline), so the substitution does not hide a wrong tag. Nothing else is
  changed: every model is built and run at the size the README gives (each is built once).
- ```bash blocks: every command (lines joined at a trailing backslash, `&&` chains split, `#`
  comments dropped) is checked without downloading or training: `bash SCRIPT` must exist and pass
  `bash -n`; `python -m MODULE ...` is parsed by the module's own argument parser and its values
  validated the way the command would before any work (training.cli.parse_args + the config
  validation, the export parser, the bench parser and model globs); `hub list` and `hub verify`
  run for real (offline, empty cache); a script is run with its arguments plus `--help`.
  `keras-resfamily COMMAND ...` is checked as its module is (`list` and `info` run for real;
  `predict` parsed, its model, weights tag and image files checked); `python3 -m pip install -e
  ".[extras]"` must name extras that setup.cfg defines.
  Usage synopses such as `[TAG|hf://...]` or `[--fold]` are expanded into every combination (each
  optional part left out or given, each alternative), with the placeholders in PLACEHOLDERS
  replaced by real values. A command no checker knows fails the test: add a checker.
- Any other language tag (or none) fails the test, except those listed in SKIPPED_LANGUAGES
  (blocks that are not runnable by design, e.g. sample output).
"""

import argparse
import contextlib
import io
import itertools
import linecache
import os
import re
import shlex
import subprocess
import tempfile
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")

SKIPPED_LANGUAGES = ("text", "console", "output")  # not runnable by design; none in the README today


class Substitution:
    """`original` -> `replacement` in the README's python blocks; `model` / `weights` name the published
    checkpoint the original would download (checked against the registry, offline)."""

    def __init__(self, original, replacement, model, weights, why):
        self.original, self.replacement = original, replacement
        self.model, self.weights, self.why = model, weights, why


# weights=None only where the README's line would download a checkpoint (no network in tests). Tags that
# only select a pretrained config (preprocess_input(weights=...), export_serving(weights=...)) read the
# bundled registry, download nothing, and run unchanged.
SUBSTITUTIONS = (
    Substitution('kr.ResNeSt50(weights="imagenet")', "kr.ResNeSt50(weights=None)",
                 "ResNeSt50", "imagenet", "downloads timm/resnest50d.in1k"),
    Substitution('kr.ResNet50(weights="imagenet")', "kr.ResNet50(weights=None)",
                 "ResNet50", "imagenet", "downloads timm/resnet50.a1_in1k"),
    Substitution('kr.ResNet50(weights="tv_in1k",', "kr.ResNet50(weights=None,",
                 "ResNet50", "tv_in1k", "downloads torchvision's ResNet-50 weights"),
)

# Placeholders of the bash blocks' usage synopses -> real values.
PLACEHOLDERS = {
    "MODEL": "ResNet50",
    "TAG": "a1_in1k",
    "hf://...": "hf://timm/resnet50.a1_in1k",
}


# ----------------------------------------------------------------------------------------------------
# README parsing


def fenced_blocks(path=README):
    """[(language, first code line number (1-based), code)] of every fenced block, in order."""
    blocks, language, start, lines = [], None, 0, []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            fence = re.match(r"^```(.*)$", line.rstrip("\n"))
            if language is None and fence:
                language, start, lines = fence.group(1).strip(), number + 1, []
            elif language is not None and line.rstrip() == "```":
                blocks.append((language, start, "".join(lines)))
                language = None
            elif language is not None:
                lines.append(line)
    assert language is None, f"README.md: the block opened at line {start - 1} is never closed"
    return blocks


def python_blocks():
    return [(start, code) for language, start, code in fenced_blocks() if language == "python"]


def bash_commands():
    """[(README line, argv)] of every command of the bash blocks, synopses expanded."""
    commands = []
    for language, start, code in fenced_blocks():
        if language != "bash":
            continue
        lines = code.split("\n")
        index = 0
        while index < len(lines):
            number, text = start + index, lines[index]
            while text.rstrip().endswith("\\") and index + 1 < len(lines):  # continuation lines
                index += 1
                text = text.rstrip()[:-1] + " " + lines[index]
            index += 1
            tokens = shlex.split(text, comments=True)
            if not tokens:
                continue
            for part in _split_on(tokens, "&&"):
                for argv in expand_synopsis(part):
                    commands.append((number, argv))
    return commands


def _split_on(tokens, separator):
    parts, current = [], []
    for token in tokens:
        if token == separator:
            parts.append(current)
            current = []
        else:
            current.append(token)
    return parts + [current]


def expand_synopsis(tokens):
    """Every argv a usage synopsis allows: each `[...]` group omitted or given (each `|` alternative),
    placeholders replaced."""
    choices, group = [], None
    for token in tokens:
        if group is None and token.startswith("["):
            group, token = [], token[1:]
        if group is None:
            choices.append([[PLACEHOLDERS.get(token, token)]])
            continue
        closing = token.endswith("]")
        group.append(token[:-1] if closing else token)
        if closing:
            if len(group) == 1:
                options = [[PLACEHOLDERS.get(alt, alt)] for alt in group[0].split("|")]
            else:
                options = [[PLACEHOLDERS.get(t, t) for t in group]]
            choices.append([[]] + options)
            group = None
    assert group is None, f"unclosed [ in {' '.join(tokens)!r}"
    return [[t for piece in combo for t in piece] for combo in itertools.product(*choices)]


# ----------------------------------------------------------------------------------------------------
# Fence languages and substitutions


def test_every_block_has_a_checked_or_skipped_language():
    blocks = fenced_blocks()
    assert blocks, "README.md has no fenced code blocks"
    unknown = [(start - 1, language) for language, start, _ in blocks
               if language not in ("python", "bash") and language not in SKIPPED_LANGUAGES]
    assert not unknown, f"README.md blocks (line, language) that no test checks: {unknown}"
    assert python_blocks() and bash_commands()


def test_substitutions_are_present_once_and_name_published_weights():
    from keras_resfamily import hub

    text = "".join(code for _, code in python_blocks())
    for sub in SUBSTITUTIONS:
        count = text.count(sub.original)
        assert count == 1, (f"README.md python blocks contain {sub.original!r} {count} times (expected once): "
                            "update SUBSTITUTIONS in tests/test_readme.py with the README")
        entry = hub.get_weights_entry(sub.model, sub.weights)  # a wrong tag raises here, offline
        assert entry.source, sub.why


def substituted(code):
    for sub in SUBSTITUTIONS:
        code = code.replace(sub.original, sub.replacement)
    return code


# ----------------------------------------------------------------------------------------------------
# Python blocks


@pytest.fixture
def offline_sandbox(tmp_path, monkeypatch):
    """Empty weights cache, downloads refused, a scratch working directory holding the `cat.jpg` the
    README's examples classify (a generated JPEG: the README means the user's own photo)."""
    import tensorflow as tf

    monkeypatch.setenv("KERAS_RESFAMILY_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_RESFAMILY_OFFLINE", "1")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    pixels = tf.cast(tf.random.stateless_uniform((180, 240, 3), (0, 1), maxval=256, dtype=tf.int32), tf.uint8)
    (work / "cat.jpg").write_bytes(tf.io.encode_jpeg(pixels).numpy())
    return work


def test_python_blocks_run_in_order(offline_sandbox):
    namespace = {"__name__": "__readme__"}
    for start, code in python_blocks():
        code = substituted(code)
        filename = f"README.md (python block at line {start})"
        # Tracebacks show the README line (offset so line numbers match README.md's).
        padded = "\n" * (start - 1) + code
        linecache.cache[filename] = (len(padded), None, padded.splitlines(True), filename)
        exec(compile(padded, filename, "exec"), namespace)  # noqa: S102 - the README's own code
    # What the blocks' comments promise, where it is cheap to check on the objects they built.
    assert list(namespace["features"].output) == ["stride4", "stride8", "stride16", "stride32"]
    assert namespace["classifier"].output.shape == (None, 10)
    assert namespace["model"].output.shape == (None, 1000)  # the ImageNet classifier the export block uses
    # The export block wrote its version directory into the scratch directory.
    assert (offline_sandbox / "models" / "resnet50" / "1" / "saved_model.pb").is_file()


# ----------------------------------------------------------------------------------------------------
# Bash blocks


def _check_bash_script(args):
    assert len(args) == 1, args
    path = os.path.join(ROOT, args[0])
    assert os.path.isfile(path), f"{args[0]} does not exist"
    subprocess.run(["bash", "-n", path], check=True)


def _check_training(args):
    import keras_resfamily as kr
    from keras_resfamily.training.cli import parse_args
    from keras_resfamily.training.config import resolve

    values, config_file = parse_args(args)
    cfg = resolve(values, config_file)  # choices, ranges, recipe: what train() checks before any work
    kr.get_spec(cfg.model)


def _check_export(args):
    from keras_resfamily import get_spec, hub
    from keras_resfamily.export.__main__ import parse_args

    parsed = parse_args(args)
    hub.is_pretrained(parsed.weights, get_spec(parsed.model))  # unknown model or tag -> ValueError


def _check_hub(args):
    from keras_resfamily import get_spec, hub
    from keras_resfamily.hub import __main__ as hub_main

    if args and args[0] in ("download", "convert"):  # would download: parse with the real parser only
        seen = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(hub_main, f"_{args[0]}", lambda parsed: seen.append(parsed) or 0)
            assert hub_main.main(args) == 0
        (parsed,) = seen
        hub.is_pretrained(parsed.weights, get_spec(parsed.model))
        return
    with contextlib.redirect_stdout(io.StringIO()):  # list / verify: run for real, offline, empty cache
        assert hub_main.main(args) == 0


def _check_bench(args):
    from keras_resfamily.bench.__main__ import parse_args, resolve_models

    assert resolve_models(parse_args(args).models)


def _check_model_table(args):
    """The bench options (it runs the bench), or --plot-from: drawn here from the README's own table."""
    if "--plot-from" not in args:
        return _check_bench(args)
    from keras_resfamily.model_table import main

    plot = args[args.index("--plot") + 1]
    with tempfile.TemporaryDirectory() as folder:
        arguments = [os.path.join(ROOT, a) if a.endswith(".md") else a for a in args]
        main([os.path.join(folder, "zoo.png") if a == plot else a for a in arguments])
        assert os.path.getsize(os.path.join(folder, "zoo.png")) > 10_000


def _check_script(script, args):
    path = os.path.join(ROOT, script)
    assert os.path.isfile(path), f"{script} does not exist"
    result = subprocess.run([sys.executable, path, *args, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def _check_pip_install(args):
    """`pip install [-e] ".[extra,...]"` of this repository: every extra named is one setup.cfg defines."""
    import configparser

    args = [arg for arg in args if arg != "-e"]
    assert args[0] == "install" and len(args) == 2, args
    target, _, extras = args[1].partition("[")
    assert target == ".", f"installs {target!r}, not this repository"
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    defined = set(config["options.extras_require"])
    for extra in filter(None, extras.rstrip("]").split(",")):
        assert extra in defined, f"extra {extra!r} is not in setup.cfg (defined: {sorted(defined)})"


def _check_predict(args):
    """Parsed by the command's parser; the model, the weights tag and the image files checked, offline."""
    from keras_resfamily.cli import predict
    from keras_resfamily.images import preprocessing_for

    _, parsed = predict.parse_args(args, "keras-resfamily predict")
    preprocessing_for(parsed.model, None if parsed.weights == "none" else parsed.weights, parsed.size)
    for image in parsed.images:
        assert os.path.isfile(image), f"{image} does not exist in the sandbox"


def _check_console(args):
    """`keras-resfamily COMMAND ...`: list / info run for real; the others are checked like their module."""
    from keras_resfamily.cli import COMMANDS, main

    command, rest = args[0], args[1:]
    assert command in COMMANDS, f"unknown command {command!r}"
    if command in ("list", "info"):
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(args) == 0
        return
    checkers = {"train": _check_training, "export": _check_export, "hub": _check_hub, "bench": _check_bench,
                "predict": _check_predict}
    checkers[command](rest)


MODULE_CHECKERS = {
    "pip": _check_pip_install,
    "keras_resfamily.training.train": _check_training,
    "keras_resfamily.export": _check_export,
    "keras_resfamily.hub": _check_hub,
    "keras_resfamily.bench": _check_bench,
    "keras_resfamily.model_table": _check_model_table,
}


@pytest.mark.parametrize(("line", "argv"), bash_commands(),
                         ids=[f"line{line}: {' '.join(argv)}" for line, argv in bash_commands()])
def test_bash_command_parses(line, argv, offline_sandbox):
    program, args = argv[0], argv[1:]
    try:
        if program == "bash":
            return _check_bash_script(args)
        if program == "keras-resfamily":
            return _check_console(args)
        assert program in ("python", "python3"), f"no checker for {program!r}"
        if args[:1] == ["-m"]:
            assert args[1] in MODULE_CHECKERS, f"no checker for python -m {args[1]}"
            return MODULE_CHECKERS[args[1]](args[2:])
        return _check_script(args[0], args[1:])
    except SystemExit as error:  # argparse rejected the arguments (its message is on stderr)
        pytest.fail(f"README.md line {line}: {' '.join(argv)!r} exited with {error.code}")
    except (AssertionError, ValueError, argparse.ArgumentError) as error:
        raise AssertionError(f"README.md line {line}: {' '.join(argv)!r}: {error}") from error


def test_model_zoo_lists_every_registered_model_with_its_reference():
    import keras_resfamily as kr
    from keras_resfamily.model_table import ZOO_HEADER, read_zoo_table

    rows = {row["model"] for row in read_zoo_table(README)}
    registered = set(kr.list_models())
    assert rows == registered, (sorted(registered - rows), sorted(rows - registered))
    with open(README, encoding="utf-8") as handle:
        lines = handle.read().split(ZOO_HEADER, 1)[1].splitlines()
    reference_cells = {cells[1].strip("` "): cells[3].strip() for cells in (line.split("|") for line in lines)
                       if len(cells) > 3 and cells[1].strip().startswith("`")}
    for spec in kr.specs.all_specs():
        if spec.reference:
            assert reference_cells[spec.name] == f"{spec.reference_source} `{spec.reference}`", spec.name
