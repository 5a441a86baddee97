"""The wheel a user installs: built without setuptools warnings, holding the package, its data, the
training code under keras_resfamily.training (no top-level `training` to shadow a user's folder) and
the `keras-resfamily` console script."""

import os
import re
import shutil
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# This machine's pip configuration, not the build: an index folder that does not exist, running as root.
PIP_NOISE = re.compile(r"WARNING: (Location '.*' is ignored|Running pip as the 'root' user)")


def test_wheel_builds_cleanly_with_namespaced_training_and_console_script(tmp_path):
    source = tmp_path / "source"  # a copy: setuptools writes build/ and egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", "runs",
                                                                 ".whl", ".venv", "bench_results"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                             str(tmp_path), str(source)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = (result.stdout + result.stderr).splitlines()
    warnings = [line for line in output if re.search(r"(?i)warn", line) and not PIP_NOISE.search(line)]
    assert not warnings, warnings
    (wheel,) = tmp_path.glob("keras_resfamily-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"keras_resfamily", "keras_resfamily_cli.py"}, tops
    for required in ("keras_resfamily/training/train.py", "keras_resfamily/training/data/digits.py",
                     "keras_resfamily/data/model_stats.json", "keras_resfamily/data/pretrained_weights.json",
                     "keras_resfamily/data/imagenet_classes.json", "keras_resfamily/cli/predict.py"):
        assert required in names, required
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "keras-resfamily = keras_resfamily_cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
