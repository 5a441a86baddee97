"""Inception-V3, Inception-V4 and Inception-ResNet-V2: timm's `inception_v3` (torchvision's `Inception3`
under the same names and weights), `inception_v4` and `inception_resnet_v2`, at 299x299 with mean and
std 0.5 (their pretrained configs). 75x75 is the smallest input all three accept (keras.applications'
InceptionV3 and InceptionResNetV2 minimum); they train from 139x139, where the last map is 3x3 (on
75x75 it is 1x1 and training-mode BN gives gradients of ~1e7, in timm's models as here)."""

from keras_resfamily.families.inception.layouts import INCEPTION_RESNET_V2, INCEPTION_V3, INCEPTION_V4
from keras_resfamily.families.inception.spec import HALF, InceptionSpec
from keras_resfamily.specs import register_model

INCEPTION_V3_PAPER = "Szegedy et al., Rethinking the Inception Architecture for Computer Vision, 2016"
INCEPTION_V4_PAPER = ("Szegedy et al., Inception-v4, Inception-ResNet and the Impact of Residual Connections "
                      "on Learning, 2017")
TIMM_INCEPTION = dict(default_size=299, min_size=75, min_train_size=139, mean=HALF, std=HALF, bn_epsilon=1e-3)

register_model(InceptionSpec(
    name="InceptionV3", family="Inception", reference="inception_v3", paper=INCEPTION_V3_PAPER,
    layout=INCEPTION_V3, classifier="fc",
    aux_min_size=299,  # AuxLogits' 5x5 / 3 pool and 5x5 conv need a 17x17 Mixed_6e map
    reference_arguments=(("aux_logits", False),), **TIMM_INCEPTION,
))
register_model(InceptionSpec(
    name="InceptionV4", family="Inception", reference="inception_v4", paper=INCEPTION_V4_PAPER,
    layout=INCEPTION_V4, classifier="last_linear", **TIMM_INCEPTION,
))
register_model(InceptionSpec(
    name="InceptionResNetV2", family="Inception-ResNet", reference="inception_resnet_v2", paper=INCEPTION_V4_PAPER,
    layout=INCEPTION_RESNET_V2, classifier="classif", **TIMM_INCEPTION,
))
