"""One module per `kdk` verb. Each registers itself on the Typer apps in `_app`; heavy imports stay
inside the command functions so `kdk --help` is instant."""
