"""The hub's command line: every argument's help, the `prog` a console script passes, exit codes."""

import argparse

import pytest

from keras_resfamily.hub import __main__ as hub_main
from keras_resfamily.hub import cache


def _subparsers(parser):
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices


def test_every_argument_says_what_it_does_and_its_default():
    for name, parser in _subparsers(hub_main.build_parser()).items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            where = f"{name} {action.dest}"
            assert action.help and action.help.rstrip().endswith("."), where
            if action.option_strings or action.nargs == "?":  # may be left out: its default is named
                assert "Default: " in action.help, where
    convert = _subparsers(hub_main.build_parser())["convert"]
    (top,) = [a for a in convert._actions if a.dest == "top"]
    assert isinstance(top, argparse.BooleanOptionalAction) and top.option_strings == ["--top", "--no-top"]


def test_prog_names_the_command_in_usage_and_help_returns_zero(capsys):
    assert hub_main.main(["download", "--help"], prog="keras-resfamily hub") == 0
    assert capsys.readouterr().out.startswith("usage: keras-resfamily hub download ")
    assert hub_main.main(["fetch"], prog="keras-resfamily hub") == 2
    assert "keras-resfamily hub: error: argument COMMAND: invalid choice: 'fetch'" in capsys.readouterr().err


def test_convert_output_suffix_is_checked_before_any_download(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.HOME_ENV, str(tmp_path))
    monkeypatch.setenv("KERAS_RESFAMILY_OFFLINE", "1")  # a download would fail with another message
    assert hub_main.main(["convert", "ResNet18", "--no-top", "--output", "x.h5"]) == 2
    assert capsys.readouterr().err == "error: --output must end with .weights.h5; received --output='x.h5'.\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["convert", "ResNet18", "--top"], ["convert", "ResNet18", "--no-top"]])
def test_top_flag_reaches_convert(monkeypatch, argv):
    seen = []
    monkeypatch.setattr(hub_main, "_convert", lambda args: seen.append(args.top) or 0)
    assert hub_main.main(argv) == 0
    assert seen == [argv[-1] == "--top"]
