"""Every model family, one folder each: a frozen spec type (spec.py), its builder (builder.py) and
its rows (the registered models). Importing this package registers all of them.

The shared pieces (inputs, argument checks, head, weights, export, bench) never name a family:
adding one means adding its folder and one import line here.
"""

from keras_resfamily.families import residual  # noqa: F401
from keras_resfamily.families import depthwise  # noqa: F401
from keras_resfamily.families import inception  # noqa: F401
from keras_resfamily.families import xception  # noqa: F401
from keras_resfamily.families import squeezenet  # noqa: F401
from keras_resfamily.families import densenet  # noqa: F401
from keras_resfamily.families import dpn  # noqa: F401
from keras_resfamily.families import shufflenetv2  # noqa: F401
from keras_resfamily.families import shufflenetv1  # noqa: F401
from keras_resfamily.families import resnetv2_keras  # noqa: F401
