"""Packages: keras_resfamily, and the repository's training/ folder installed as keras_resfamily.training.

A top-level `training` package in site-packages would shadow any `training/` folder of the user's;
`python -m training.train` still works from a checkout (its imports are relative).
"""

from setuptools import find_packages, setup

training = {"keras_resfamily." + name: name.replace(".", "/") for name in find_packages(include=["training", "training.*"])}
setup(packages=find_packages(include=["keras_resfamily", "keras_resfamily.*"]) + sorted(training), package_dir=training,
      py_modules=["keras_resfamily_cli"], entry_points={"console_scripts": ["keras-resfamily = keras_resfamily_cli:main"]})
