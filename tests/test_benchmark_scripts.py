"""benchmarks/*.py keep running: tiny shapes, one timed run, their tables parsed."""

import json
import os
import subprocess
import sys

from keras_resfamily.layers.grouped_conv2d import PER_GROUP, grouped_conv_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args, unset=()):
    env = {key: value for key, value in os.environ.items() if key not in unset}
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), *args], capture_output=True,
                            text=True, timeout=600, env=dict(env, KERAS_BACKEND="tensorflow"))
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
    out = _run("attention_cost.py", "--models", "ResNeSt14", "RepVGG_A0:deploy", "GCResNet50", "--size", "32",
               "--batch", "1", "--runs", "3", "--warmup", "0", "--threads", "1")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert list(rows) == ["ResNet50", "ResNeSt14", "RepVGG_A0:deploy", "GCResNet50"], out
    # img/s, cost [quartiles] on each side, then ours / timm's cost [quartiles]: all per-round ratios
    same = ["1.000", "[1.000-1.000]"]
    assert rows["ResNet50"][1:3] == same and rows["ResNet50"][4:] == same * 2
    for name in ("ResNeSt14", "RepVGG_A0:deploy"):
        ours, q_ours, timm, q_timm, relative, q_relative = map(_ratio_or_quartiles, rows[name][1:3] + rows[name][4:])
        assert q_ours[0] <= ours <= q_ours[1] and q_timm[0] <= timm <= q_timm[1], out
        assert q_relative[0] <= relative <= q_relative[1] and relative > 0, out
    assert rows["GCResNet50"][3:] == ["-", "-", "-"], out  # no timm model of its own


def _ratio_or_quartiles(cell):
    return tuple(map(float, cell.strip("[]").split("-"))) if cell.startswith("[") else float(cell)


def _markdown_tables(out):
    """{"## heading" text: [{column: cell}]} of the markdown tables printed under each heading."""
    tables, heading, header = {}, None, None
    for line in out.splitlines():
        if line.startswith("## "):
            heading, header = line[3:], None
            tables[heading] = []
        elif line.startswith("|") and heading:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if header is None:
                header = cells
            elif not set(line) <= set("|-: "):  # not the alignment row
                tables[heading].append(dict(zip(header, cells)))
    return tables


def test_applications_speed_tables(tmp_path):
    out_file = tmp_path / "applications.md"
    out = _run("applications_speed.py", "--size", "32", "--rounds", "1", "--batches", "1", "--threads", "1",
               "--models", "MobileNetV2", "ShuffleNetV2_x1_0", "--shapes", "8x8x8:3:1", "6x6x16:5:2", "--out", str(out_file))
    assert out_file.read_text().strip() == out.strip()
    tables = _markdown_tables(out)
    assert list(tables) == ["Models: inference img/s", "Depthwise forms: median ms",
                            "Our models: graph vs XLA, median ms"], out
    # The references included: the script fails without torch / timm / torchvision.
    speed, torchvision_only = tables["Models: inference img/s"]
    assert (speed["Model"], speed["Reference"], speed["Batch"]) == ("MobileNetV2", "timm mobilenetv2_100", "1"), speed
    for column in ("Ours img/s", "Ours folded img/s", "keras.applications img/s", "Reference img/s",
                   "Ours / keras.applications", "Ours / reference", "Ours folded / reference"):
        assert float(speed[column]) > 0, speed
    # A torchvision reference, and no keras.applications model of that name.
    assert torchvision_only["Reference"] == "torchvision shufflenet_v2_x1_0", torchvision_only
    assert float(torchvision_only["Ours / reference"]) > 0 and torchvision_only["Ours / keras.applications"] == "-"
    forms = tables["Depthwise forms: median ms"]
    assert [row["Shape"] for row in forms] == ["8x8x8 k3 s1", "6x6x16 k5 s2"], out
    names = [f"{form}{jit}" for form in ("DepthwiseConv2D", "Conv2D(groups=C)", "tf.nn.depthwise_conv2d")
             for jit in ("", " XLA")]
    for row in forms:
        assert float(row["Max rel diff"]) <= 1e-4 and row["Fastest correct"] in names, row
        assert all(float(row[name]) > 0 for name in names), row  # a form that differs would end in " *"
    xla = tables["Our models: graph vs XLA, median ms"]
    assert [row["Model"] for row in xla] == ["MobileNetV2", "ShuffleNetV2_x1_0"], xla
    assert all(float(row["Max rel diff"]) <= 1e-4 for row in xla), xla


def test_applications_speed_bfloat16_against_timm_autocast():
    out = _run("applications_speed.py", "--size", "32", "--rounds", "1", "--batches", "1", "--threads", "1",
               "--calls", "2", "--models", "ResNet50", "--precision", "bfloat16")
    assert "bfloat16: Keras models under the mixed_bfloat16 policy" in out and "median of 2 back-to-back" in out
    tables = _markdown_tables(out)
    assert list(tables) == ["Models: inference img/s"], out  # no depthwise forms: they compare float32 outputs
    (row,) = tables["Models: inference img/s"]
    assert row["Reference"] == "timm resnet50" and float(row["Ours / reference"]) > 0, row


def test_applications_speed_emulates_an_avx2_machine():
    # TF_ENABLE_ONEDNN_OPTS unset: the script's own default, as TensorFlow's on such a machine
    out = _run("applications_speed.py", "--size", "32", "--rounds", "1", "--batches", "1", "--threads", "1",
               "--models", "ShuffleNetV2_x1_0", "--skip-forms", "--emulate-avx2", unset=("TF_ENABLE_ONEDNN_OPTS",))
    assert "- oneDNN in TensorFlow: off (TF_ENABLE_ONEDNN_OPTS=0)" in out, out
    assert "- torch's CPU kernels: AVX2 (--emulate-avx2: ATEN_CPU_CAPABILITY=avx2" in out, out
    (row,) = _markdown_tables(out)["Models: inference img/s"]
    assert float(row["Ours / reference"]) > 0, row


def test_gpu_speed_runs_keras_on_jax_and_timm_in_one_process(tmp_path):
    # On CPU at 32 px: the JAX-backend Keras step and the torch step in one process, interleaved.
    out_file = tmp_path / "gpu.json"
    _run("gpu_speed.py", "--batch", "1", "--size", "32", "--rounds", "2", "--steps", "1", "--modes", "infer",
         "--rows", "ours", "timm", "--out", str(out_file))
    report = json.loads(out_file.read_text())
    assert list(report["infer"]) == ["ours ResNet50 (Keras/JAX XLA, mixed_bfloat16)", "timm resnet50 eager (channels_last, bf16 autocast)"], report
    for result in report["infer"].values():
        assert 0 < result["min_img_s"] <= result["img_s"] <= result["max_img_s"], result


def test_applications_speed_covers_every_model_keras_applications_also_ships():
    """The speed comparison cannot silently skip a registered model that has a keras.applications twin."""
    import importlib.util

    import keras

    import keras_resfamily as kr

    spec = importlib.util.spec_from_file_location("applications_speed", os.path.join(ROOT, "benchmarks",
                                                                                     "applications_speed.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shared = {name for name in kr.list_models()
              if hasattr(keras.applications, script.applications_name(kr.get_spec(name)))}
    assert shared - set(script.MODELS) == set()
    assert {"ResNet50", "MobileNetV3Small", "EfficientNetB7", "DenseNet201", "KerasResNet50V2"} <= shared
