"""Data files that ship with the package: ImageNet class names, the pretrained-weights registry, timm reference accuracies."""
