"""Benchmark module: MACs counted from the graph against the reference counts, and the CLI outputs."""

import csv

import keras
import pytest

import keras_resfamily as kr
from keras_resfamily.bench import BenchConfig, COLUMNS, count_macs
from keras_resfamily.bench.__main__ import main, resolve_models

# timm 1.0.31 at 224 px, torch.utils.flop_counter.FlopCounterMode FLOPs / 2 (measured; the papers
# round these to ResNet-18 1.8, ResNet-50 4.1, ResNeXt-50 32x4d 4.2 GMACs).
TIMM_MACS = {"ResNet18": 1_814_073_344, "ResNet50": 4_089_184_256, "ResNeXt50_32x4d": 4_230_479_872}


@pytest.mark.parametrize("name", sorted(TIMM_MACS))
def test_macs_match_timm_counts(name):
    macs = count_macs(kr.create_model(name), 224)
    assert abs(macs / TIMM_MACS[name] - 1) < 0.01, (name, macs)


def test_grouped_depthwise_and_dense_macs_are_exact():
    inputs = keras.Input((16, 16, 32))
    x = kr.layers.GroupedConv2D(64, 3, padding="same", groups=8)(inputs)  # 16*16*64 outputs x 9 x 32/8
    x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)  # 16*16*64 outputs x 9
    x = kr.layers.BatchNorm()(x)  # folds into the conv: its first form is left unused, and not counted
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10)(x)  # 64 x 10
    model = keras.Model(inputs, outputs)
    assert count_macs(model, 16) == 16 * 16 * 64 * 9 * 4 + 16 * 16 * 64 * 9 + 64 * 10


def test_macs_scale_with_batch_and_reject_bad_sizes():
    model = kr.create_model("ResNet18", input_shape=(64, 64, 3))
    assert count_macs(model, 64, batch=2) == 2 * count_macs(model, 64)
    with pytest.raises(ValueError, match="input_size"):
        count_macs(model, (64,))


def test_macs_match_timm_worker():
    pytest.importorskip("timm")
    from keras_resfamily.bench import reference

    result = reference.timm_measurements([("resnet18", 96)], batch=1, warmup=0, runs=1, threads=1, speed=False)
    ours = count_macs(kr.create_model("ResNet18", input_shape=(96, 96, 3)), 96)
    assert abs(ours / (result["resnet18"]["gmacs"] * 1e9) - 1) < 0.01


def test_tiny_run_writes_tables(tmp_path):
    main(["--models", "ResNet18", "--size", "64", "--batch", "1", "--runs", "1", "--warmup", "0",
          "--out", str(tmp_path)])
    with open(tmp_path / "bench.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert rows[0]["model"] == "ResNet18" and float(rows[0]["infer_img_s"]) > 0
    assert abs(float(rows[0]["gmacs"]) - 0.149) < 0.001  # 1.814 GMACs * (64 / 224)^2, the stride-32 grid rounds
    table = (tmp_path / "bench.md").read_text()
    for header in ("| Model |", "| Params (M) |", "| GMACs |", "| Infer img/s |", "| Peak mem (MiB) |"):
        assert header in table
    assert "`ResNet18`" in (tmp_path / "zoo.md").read_text()
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")  # matplotlib is a test dependency


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="precision"):
        BenchConfig(models=("ResNet18",), precision="fp8")
    with pytest.raises(ValueError, match="batch"):
        BenchConfig(models=("ResNet18",), batch=0)
    with pytest.raises(ValueError, match="timm comparisons run in float32"):
        BenchConfig(models=("ResNet18",), timm=True, precision="mixed_bfloat16")
    with pytest.raises(ValueError, match="matches no registered model"):
        resolve_models(["NoSuchNet*"])
    assert resolve_models(["resnet5?", "ResNet50"]) == ("ResNet50",)


def test_zoo_table_reads_back_and_plots(tmp_path):
    """The README's plot is drawn from its zoo table: every row, the speeds of joined passes as printed."""
    from keras_resfamily.model_table import read_zoo_table

    table = tmp_path / "zoo.md"
    table.write_text("intro\n\n| Model | Family | Reference | Params | GMACs | Input | Speed vs ResNet50 |\n"
                     "|---|---|---|---:|---:|---:|---:|\n| `ResNet50` | ResNet | timm `resnet50` | 25.56M | 4.09 | 224 | 1.00x |\n"
                     "| `MobileNetV2` | MobileNetV2 | timm `mobilenetv2_100` | 3.50M | 0.30 | 224 | 4.32x |\n"
                     "| `ResNet18` | ResNet | timm `resnet18` | 11.69M | 1.81 | 224 | - |\n\nafter\n")
    assert read_zoo_table(table) == [
        {"model": "ResNet50", "family": "ResNet", "params_m": 25.56, "speed_vs_resnet50": 1.0},
        {"model": "MobileNetV2", "family": "MobileNetV2", "params_m": 3.5, "speed_vs_resnet50": 4.32},
        {"model": "ResNet18", "family": "ResNet", "params_m": 11.69, "speed_vs_resnet50": None}]
    (tmp_path / "empty.md").write_text("no table\n")
    with pytest.raises(ValueError, match="has no model-zoo table"):
        read_zoo_table(tmp_path / "empty.md")


def test_interleaved_rounds_call_every_timer_once_per_round_in_turn():
    from keras_resfamily.bench.stopwatch import interleaved

    calls = []

    def timer(key, seconds):
        return lambda: calls.append(key) or seconds.pop(0)

    seconds = interleaved({"a": timer("a", [9.0, 1.0, 3.0, 2.0]), "b": timer("b", [9.0, 5.0, 4.0, 6.0])},
                          rounds=3, warmup=1)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # warm-up, then one call of each per round, in turn
    assert seconds == {"a": 2.0, "b": 5.0}  # medians of the timed rounds only
    with pytest.raises(ValueError, match="rounds must be >= 1"):
        interleaved({}, rounds=0, warmup=0)


def test_paired_ratios_cancel_load_that_drifts_between_rounds():
    from keras_resfamily.bench.stopwatch import paired_ratios

    load = [1.0, 1.1, 3.0, 2.9, 1.2]  # the machine slows down mid-run, then recovers
    assert paired_ratios([1.5 * x for x in load], load) == pytest.approx((1.5, 1.5, 1.5))  # every round says 1.5
    assert paired_ratios([4.0, 1.0, 2.0, 3.0], [1.0] * 4) == (2.5, 1.75, 3.25)  # median, quartiles
    with pytest.raises(ValueError, match="received 2 and 1 values"):
        paired_ratios([1.0, 2.0], [1.0])
