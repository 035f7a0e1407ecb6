"""klaviyo-devkit: the spec pipeline (fetch, lock, validate, overlay, diff) and the `kdk` command."""

__all__ = ["__version__"]

__version__ = "0.1.0"
