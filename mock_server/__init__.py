"""The Klaviyo mock server: every operation of the pinned spec, Klaviyo's errors, schema-valid bodies.

Public pieces the stateful layer (mock_server.state) builds on:
- `create_app(spec_path=None, behaviours=[...], admin_routes=[...])`: the Connexion AsyncApp.
- `mock_core(app)`: its MockCore (`generated_response(request)` for the schema-generated answer).
- `error_response` / `error_object` / `MockError`: Klaviyo's JSON:API error envelope.
- `generate_body(spec, schema, seed=...)`: a realistic body valid against a response schema.
- `revision_spec_path(ref)`: the raw spec of any revision (fetched into the spec cache if missing).
- `MockRequest` / `MockResponse` / `Behaviour` / `AdminRoute`: the seam (see `_types.py`).
"""

from typing import Any

from ._app import create_app, default_spec_path, mock_core
from ._compile import CompiledSpec, load_compiled
from ._core import JSON_API, REVISION_HEADER, MockCore
from ._errors import MockError, error_object, error_response
from ._sources import revision_spec_path
from ._types import AdminHandler, AdminRoute, Behaviour, MockRequest, MockResponse

__all__ = [
    "JSON_API",
    "REVISION_HEADER",
    "AdminHandler",
    "AdminRoute",
    "Behaviour",
    "CompiledSpec",
    "MockCore",
    "MockError",
    "MockRequest",
    "MockResponse",
    "create_app",
    "default_spec_path",
    "error_object",
    "error_response",
    "generate_body",
    "load_compiled",
    "mock_core",
    "revision_spec_path",
]


def generate_body(spec: dict[str, Any], schema: dict[str, Any], *, seed: str) -> Any:
    """A JSON value valid against `schema` (an OpenAPI 3.0 schema of `spec`), deterministic for `seed`.

    (Imported lazily: the generator needs kdk.spec, which the mock's cached start-up avoids.)
    """
    from ._generate import generate_body as generate

    return generate(spec, schema, seed=seed)
