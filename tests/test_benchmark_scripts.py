"""benchmarks/*.py keep running: tiny shapes, one timed run, their tables parsed."""

import os
import subprocess
import sys

from keras_resfamily.layers.grouped_conv2d import PER_GROUP, grouped_conv_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), *args], capture_output=True,
                            text=True, timeout=600, env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_grouped_conv_formulations_agree():
    out = _run("grouped_conv.py", "--batch", "1", "--size", "8", "--channels", "8", "--groups", "2", "--runs", "1")
    rows = {line[:28].strip(): line[28:].split() for line in out.splitlines()[2:]}
    assert set(rows) == {"Conv2D(groups)", "tf.nn.convolution(grouped)", "per-group convs + concat",
                         "depthwise + group sum", "block-diagonal dense conv"}
    for label, cells in rows.items():
        if cells[0] == "failed:":  # only TensorFlow's grouped op, only where the layer's probe finds no gradient
            # (the reason text depends on which of the two gradient ops TensorFlow reports first)
            assert label == "tf.nn.convolution(grouped)" and cells[1] == "InvalidArgumentError:", cells
            assert grouped_conv_path() == PER_GROUP, cells
            continue
        error, forward_ms, backward_ms = map(float, cells)
        assert error < 1e-5 and forward_ms > 0 and backward_ms > 0, (label, cells)


def test_attention_cost_table():
    out = _run("attention_cost.py", "--models", "ResNeSt14", "RepVGG_A0:deploy", "--size", "32", "--batch", "1",
               "--runs", "1", "--warmup", "0", "--threads", "1", "--no-timm")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert list(rows) == ["ResNet50", "ResNeSt14", "RepVGG_A0:deploy"], out
    assert rows["ResNet50"][:2] != ["-"] and rows["ResNet50"][1] == "1.00" and rows["ResNeSt14"][2:] == ["-", "-"]
