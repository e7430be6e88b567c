"""The templates (models/) and assets (assets/) live at the top of the repository but install as
``studio.resources.models`` / ``studio.resources.assets`` (see package-dir in pyproject.toml)."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["studio", "studio.*"]) + ["studio.resources.models", "studio.resources.assets"])
