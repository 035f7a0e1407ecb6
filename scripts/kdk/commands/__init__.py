"""One module per `kdk` verb. Each registers itself on the Typer apps (`app`, `spec_app`); heavy imports stay
inside the command functions so `kdk --help` is instant. `kdk.cli` imports every verb's module."""

from ._app import app, spec_app

__all__ = ["app", "spec_app"]
