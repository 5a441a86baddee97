"""`python -m keras_resfamily COMMAND ...`: the `keras-resfamily` command (see keras_resfamily.cli)."""

import sys

from keras_resfamily.cli import main

if __name__ == "__main__":
    sys.exit(main())
