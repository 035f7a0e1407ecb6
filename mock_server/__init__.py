"""The Klaviyo mock server: every operation of the pinned spec, Klaviyo's errors, schema-valid bodies.

Public pieces the stateful layer (mock_server.state) builds on:
- `create_app(spec_path=None, spec=None, behaviours=[...], admin_routes=[...])`: the Connexion AsyncApp, of the
  pinned spec, a raw spec file or a `kdk.spec.PatchedSpec` (`compile_patched`, cached by its content hash).
- `serve(ServeOptions(...), host=..., port=...)`: `kdk mock` under uvicorn.
- `mock_core(app)`: its MockCore (`generated_response(request)` for the schema-generated answer).
- `error_response` / `error_object` / `MockError`: Klaviyo's JSON:API error envelope.
- `generate_body(spec, schema, seed=...)`: a realistic body valid against a response schema.
- `id_rules(spec)` / `new_id` / `seeded_id` ...: Klaviyo's id shapes and type naming conventions (`_ids.py`).
- `on_request_fields` / `requested_fields`: fields Klaviyo sends only on request (`additional-fields[type]`).
- `revision_spec_path(ref)`: the raw spec of any revision (fetched into the spec cache if missing).
- `MockRequest` / `MockResponse` / `Behaviour` / `AdminRoute`: the seam (see `_types.py`).
"""

from typing import Any

from ._admin_access import ADMIN_TOKEN_ENV, ADMIN_TOKEN_HEADER, AdminAccess, admin_refusal, exposure_problem
from ._app import create_app, default_spec_path, mock_core
from ._auth import account_for_name, account_id
from ._body import read_all as read_request_body
from ._cassette import CASSETTE_VERSION, CassetteError, body_text, open_recording
from ._compile import CompiledSpec, compile_patched, load_compiled
from ._core import JSON_API, REVISION_HEADER, MockCore
from ._drift import parse_drift_kinds
from ._errors import MockError, error_object, error_response
from ._ids import (
    IdRule,
    IdRules,
    IdShape,
    id_rules,
    id_shape_for_example,
    job_effect,
    new_id,
    relationship_name,
    seeded_id,
    type_of_id_field,
)
from ._limits import HttpLimits
from ._mask import Masker
from ._on_request import on_request_fields, requested_fields
from ._replay import prepare_replay
from ._serve import ServeOptions, serve, uvicorn_kwargs
from ._sources import revision_spec_path
from ._types import AdminHandler, AdminRoute, Behaviour, Exchange, MockRequest, MockResponse

__all__ = [
    "ADMIN_TOKEN_ENV",
    "ADMIN_TOKEN_HEADER",
    "CASSETTE_VERSION",
    "JSON_API",
    "REVISION_HEADER",
    "AdminAccess",
    "AdminHandler",
    "AdminRoute",
    "Behaviour",
    "CassetteError",
    "CompiledSpec",
    "Exchange",
    "HttpLimits",
    "IdRule",
    "IdRules",
    "IdShape",
    "Masker",
    "MockCore",
    "MockError",
    "MockRequest",
    "MockResponse",
    "ServeOptions",
    "account_for_name",
    "account_id",
    "admin_refusal",
    "body_text",
    "compile_patched",
    "create_app",
    "default_spec_path",
    "error_object",
    "error_response",
    "exposure_problem",
    "generate_body",
    "id_rules",
    "id_shape_for_example",
    "job_effect",
    "load_compiled",
    "mock_core",
    "new_id",
    "on_request_fields",
    "open_recording",
    "parse_drift_kinds",
    "prepare_replay",
    "read_request_body",
    "relationship_name",
    "requested_fields",
    "revision_spec_path",
    "seeded_id",
    "serve",
    "type_of_id_field",
    "uvicorn_kwargs",
]


def generate_body(spec: dict[str, Any], schema: dict[str, Any], *, seed: str) -> Any:
    """A JSON value valid against `schema` (an OpenAPI 3.0 schema of `spec`), deterministic for `seed`.

    (Imported lazily: the generator needs kdk.spec, which the mock's cached start-up avoids.)
    """
    from ._generate import generate_body as generate

    return generate(spec, schema, seed=seed)
