"""Swagger UI at /ui (and /ui/), reading the served spec from /openapi.json; assets from swagger-ui-bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["add_swagger_ui"]

# Absolute asset URLs, so /ui and /ui/ both work without a redirect.
_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{title} - klaviyo-devkit mock</title>
  <link rel="stylesheet" type="text/css" href="/ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/ui/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/ui/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      docExpansion: "list",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  </script>
</body>
</html>
"""
_MEDIA = {".js": "application/javascript", ".css": "text/css", ".png": "image/png", ".html": "text/html"}


def _assets_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(swagger_ui_path)


def add_swagger_ui(app: Any, title: str) -> None:
    """Register /ui, /ui/ and /ui/<asset> on a Connexion AsyncApp."""
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, Response

    index = _INDEX.format(title=title)
    assets = _assets_dir()

    async def home(request: Request) -> Response:
        return HTMLResponse(index)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        path = (assets / name) if assets else None
        if path is None or "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(status_code=404)  # answered in Klaviyo's envelope by the app's handler
        return FileResponse(path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"))

    app.add_url_rule("/ui", "swagger_ui_home", home, methods=["GET"])
    app.add_url_rule("/ui/", "swagger_ui_home_slash", home, methods=["GET"])
    app.add_url_rule("/ui/{name}", "swagger_ui_asset", asset, methods=["GET"])
