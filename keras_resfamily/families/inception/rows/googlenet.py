"""GoogLeNet (Inception v1): torchvision's `googlenet`, the one reference with published weights."""

from keras_resfamily.families.inception.layouts import GOOGLENET
from keras_resfamily.families.inception.spec import InceptionSpec
from keras_resfamily.specs import register_model

register_model(InceptionSpec(
    name="GoogLeNet", family="Inception", reference="googlenet", reference_source="torchvision",
    paper="Szegedy et al., Going Deeper with Convolutions, 2015", layout=GOOGLENET,
    default_size=224,
    min_size=15,  # torchvision's `GoogLeNet_Weights.meta["min_size"]`
    min_train_size=32,  # at 15x31 the maps from stride 16 on are 1 pixel high: float16 steps overflowed (all skipped)
    classifier="fc", head_dropout="dropout",
    # The published weights were trained on (x - 0.5) / 0.5 inputs and torchvision feeds them ImageNet-
    # normalised images through `transform_input=True` (its default with weights): so does this row, so
    # that ImageNet mean / std preprocessing gives the published outputs.
    transform_input=True,
    reference_arguments=(("aux_logits", False), ("transform_input", True), ("init_weights", True)),
    note="the '5x5' branches are 3x3 convolutions, as in torchvision's model and weights (pytorch/vision#906)",
))
