"""Console-script entry of `keras-resfamily`: imports TensorFlow without its start-up log lines.

A module outside the keras_resfamily package, because importing any part of that package imports
Keras and with it TensorFlow. TensorFlow 2.21 logs through absl before absl is initialised, straight
to file descriptor 2, and ignores TF_CPP_MIN_LOG_LEVEL for those lines. So the import and the
device discovery (where the full `tensorflow` wheel logs "failed call to cuInit" on machines
without a GPU) run with descriptor 2 captured; afterwards every captured line is written out except
TensorFlow's INFO / WARNING / ERROR log lines and absl's "before absl::InitializeLog()" notice:
fatal log lines, Python warnings and tracebacks still show. `keras-resfamily --verbose COMMAND`
shows everything.
"""

import os
import re
import sys
import tempfile

START_UP_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} \d\d:\d\d:[\d.]+ +\d+ [^ ]+:\d+\] )")
LOG_ENTRY = re.compile(r"^[IWEF]\d{4} ")  # an absl log line starts an entry; others continue it
PYTHON_MESSAGE = re.compile(r"^(Traceback |\S+:\d+: \w*Warning: )")


def quietly(start_up):
    """Run `start_up()` with descriptor 2 captured; pass on what is not start-up log noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            start_up()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            dropping = False  # inside a dropped log entry: its continuation lines go too
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if START_UP_NOISE.match(line):
                    dropping = True
                elif LOG_ENTRY.match(line) or PYTHON_MESSAGE.match(line) or not dropping:
                    dropping = False
                    print(line, file=sys.stderr)


def _start_tensorflow():
    import tensorflow as tf

    import keras_resfamily  # noqa: F401  (Keras, TensorFlow and the model registry)

    tf.config.list_physical_devices()  # device discovery; the configuration stays open


def main():
    if sys.argv[1:2] != ["--verbose"]:  # the global flag, before COMMAND
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own later INFO / WARNING lines
        quietly(_start_tensorflow)
    from keras_resfamily.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
