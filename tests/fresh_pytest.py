"""Run tests of this suite in a fresh pytest process with other environment variables (TensorFlow
reads TF_ENABLE_ONEDNN_OPTS only when it loads)."""

import os
import subprocess
import sys


def run_pytest(targets, env, *options):
    """stdout of `pytest -q targets options` with `env` over this process's environment."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *targets, *options],
                            env={**os.environ, "KERAS_BACKEND": "tensorflow", **env}, capture_output=True, text=True)
    return result.stdout
