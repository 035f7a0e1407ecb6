"""Placeholder so the runtime layer type-checks in klaviyo-devkit: generation writes the real `_version.py`
(from openapi/generator/templates/version.py.jinja) over it."""

__all__ = ["REVISION", "__version__"]

REVISION = "0000-00-00"
__version__ = "0.0.0"
