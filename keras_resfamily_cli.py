"""Console-script entry of `keras-resfamily`: imports TensorFlow without its start-up log lines.

A module outside the keras_resfamily package, because importing any part of that package imports
Keras and with it TensorFlow. TensorFlow 2.21 logs through absl before absl is initialised, straight
to file descriptor 2, and ignores TF_CPP_MIN_LOG_LEVEL for those lines. So the import runs with
descriptor 2 captured; afterwards every captured line is written out except the INFO / WARNING
log lines and absl's "before absl::InitializeLog()" notice. `keras-resfamily --verbose COMMAND`
shows everything.
"""

import os
import re
import sys
import tempfile

START_UP_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} \d\d:\d\d:[\d.]+ +\d+ [^ ]+:\d+\] )")


def import_quietly(module):
    """Import `module` with descriptor 2 captured; pass on what is not start-up noise (errors, tracebacks)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            __import__(module)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if not START_UP_NOISE.match(line):
                    print(line, file=sys.stderr)


def main():
    if sys.argv[1:2] != ["--verbose"]:  # the global flag, before COMMAND
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own later INFO / WARNING lines
        import_quietly("keras_resfamily")
    from keras_resfamily.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
