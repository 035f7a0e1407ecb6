"""`kdk spec validate` / `kdk spec patch`: each rule on a small spec (right rule, right pointer, right severity), the
CLI's exit codes and formats, unreadable input, and every mirror revision (raw has findings, patched has no error)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from kdk import mirror_revisions
from kdk.spec import FIXES, apply_overlay, load_spec
from kdk.spec._validate import RULES, Finding, Severity, failing, validate_spec

Spec = dict[str, Any]

REVISION = {"name": "revision", "in": "header", "required": True, "schema": {"type": "string"}}
JSON_API = "application/vnd.api+json"


def clean_spec() -> Spec:
    """A small spec that follows every convention."""
    thing = {"type": "object", "properties": {"id": {"type": "string", "example": "t_1"}}, "required": ["id"]}
    ok = {"description": "ok", "content": {JSON_API: {"schema": {"$ref": "#/components/schemas/Thing"}}}}
    limits = {"burst": "10/s", "steady": "150/m"}
    return {
        "openapi": "3.0.2",
        "info": {"title": "t", "version": "2026-07-15"},
        "paths": {
            "/api/things/{id}": {
                "get": {
                    "operationId": "get_thing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        REVISION,
                    ],
                    "responses": {"200": ok, "4XX": {"$ref": "#/components/responses/ClientError"}},
                    "x-klaviyo-ratelimit": dict(limits),
                },
                "patch": {
                    "operationId": "update_thing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        REVISION,
                    ],
                    "requestBody": {"content": {JSON_API: {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "responses": {"200": ok},
                    "x-klaviyo-ratelimit": {**limits, "daily": "1000/d"},
                },
            },
            "/api/uploads": {
                "post": {
                    "operationId": "upload",
                    "parameters": [REVISION],
                    "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}},
                    "responses": {"204": {"description": "done"}},
                    "x-klaviyo-ratelimit": dict(limits),
                }
            },
        },
        "components": {
            "schemas": {
                "Thing": thing,
                # recursive, like Klaviyo's Step: prance must not choke on it
                "Step": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Step"}}},
            },
            "responses": {
                "ClientError": {
                    "description": "Client Error",
                    "content": {
                        JSON_API: {
                            "schema": {
                                "type": "object",
                                "properties": {"errors": {"type": "array", "items": {"type": "object"}}},
                                "required": ["errors"],
                            }
                        }
                    },
                }
            },
        },
    }


GET = "#/paths/~1api~1things~1{id}/get"
PATCH = "#/paths/~1api~1things~1{id}/patch"


def findings_of(spec: Spec) -> list[tuple[str, str]]:
    return [(f.pointer, f.rule) for f in validate_spec(spec)]


def test_clean_spec_has_no_findings() -> None:
    assert validate_spec(clean_spec()) == []


def test_findings_are_sorted_and_serialisable() -> None:
    spec = clean_spec()
    spec["paths"]["/api/uploads"]["post"].pop("x-klaviyo-ratelimit")
    spec["paths"]["/api/things/{id}"]["get"]["operationId"] = "upload"
    findings = validate_spec(spec)
    assert findings == sorted(findings)
    assert all(set(f.as_dict()) == {"pointer", "rule", "severity", "message"} for f in findings)
    assert {f.severity for f in findings} == {Severity.error, Severity.warning}  # duplicate id; no rate limit


def break_default(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["font"] = {
        "default": "Arial",
        "oneOf": [{"type": "string"}, {"type": "string", "enum": ["Arial"]}],
    }
    return "#/components/schemas/Thing/properties/font/default"


def break_structure(spec: Spec) -> str:
    spec["paths"]["/api/things/{id}"]["get"]["responses"]["200"].pop("description")
    return "#/paths/~1api~1things~1{id}/get/responses/200"


def break_ref(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["owner"] = {"$ref": "#/components/schemas/Nobody"}
    return "#/components/schemas/Thing/properties/owner/$ref"


def break_external_ref(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["owner"] = {"$ref": "other.json#/Owner"}
    return "#/components/schemas/Thing/properties/owner/$ref"


def break_revision_missing(spec: Spec) -> str:
    spec["paths"]["/api/things/{id}"]["get"]["parameters"].pop(1)
    return GET


def break_revision_optional(spec: Spec) -> str:
    spec["paths"]["/api/things/{id}"]["patch"]["parameters"][1] = {**REVISION, "required": False}
    return PATCH + "/parameters/1"


def break_operation_id_duplicate(spec: Spec) -> str:
    spec["paths"]["/api/things/{id}"]["patch"]["operationId"] = "get_thing"
    return PATCH + "/operationId"


def break_operation_id_missing(spec: Spec) -> str:
    del spec["paths"]["/api/things/{id}"]["patch"]["operationId"]
    return PATCH


def break_response_media(spec: Spec) -> str:
    spec["paths"]["/api/things/{id}"]["get"]["responses"]["200"] = {
        "description": "ok",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    return GET + "/responses/200/content/application~1json"


def break_request_media(spec: Spec) -> str:
    body = spec["paths"]["/api/things/{id}"]["patch"]["requestBody"]
    body["content"] = {"text/plain": {"schema": {"type": "string"}}}
    return PATCH + "/requestBody/content/text~1plain"


def break_ratelimit_format(spec: Spec) -> str:
    spec["paths"]["/api/things/{id}"]["get"]["x-klaviyo-ratelimit"]["steady"] = "150 per minute"
    return GET + "/x-klaviyo-ratelimit/steady"


def break_ratelimit_missing(spec: Spec) -> str:
    del spec["paths"]["/api/things/{id}"]["get"]["x-klaviyo-ratelimit"]
    return GET


def break_example(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["id"]["example"] = ["t_1"]
    return "#/components/schemas/Thing/properties/id/example"


def break_oneof(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["n"] = {"oneOf": [{"type": "integer"}, {"type": "number"}]}
    return "#/components/schemas/Thing/properties/n/oneOf"


def break_path_nullable(spec: Spec) -> str:
    spec["paths"]["/api/things/{id}"]["get"]["parameters"][0]["schema"]["nullable"] = True
    return GET + "/parameters/0"


def break_boolean_enum(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["flag"] = {
        "type": "boolean",
        "enum": [False],
        "nullable": True,
    }
    return "#/components/schemas/Thing/properties/flag/enum"


def break_nullable_ref(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["step"] = {
        "$ref": "#/components/schemas/Step",
        "nullable": True,
    }
    return "#/components/schemas/Thing/properties/step/nullable"


def break_inline_error(spec: Spec) -> str:
    inline = copy.deepcopy(spec["components"]["responses"]["ClientError"])
    spec["paths"]["/api/things/{id}"]["patch"]["responses"]["4XX"] = inline
    return PATCH + "/responses/4XX"


def break_typeless_enum(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["is_member"] = {"enum": [True]}
    return "#/components/schemas/Thing/properties/is_member/enum"


def break_typeless_string_enum(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["badge"] = {"enum": ["increment_one"]}
    return "#/components/schemas/Thing/properties/badge/enum"


def break_enum_type(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["status"] = {"type": "integer", "enum": ["ON", "OFF"]}
    return "#/components/schemas/Thing/properties/status/enum"


def break_array_items(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["filters"] = {"type": "array", "nullable": True}
    return "#/components/schemas/Thing/properties/filters"


def break_template_example(spec: Spec) -> str:
    spec["components"]["schemas"]["Thing"]["properties"]["id"]["example"] = "{{ event.id }}"
    return "#/components/schemas/Thing/properties/id/example"


ERROR, WARNING = Severity.error, Severity.warning


@pytest.mark.parametrize(
    ("breaker", "rule", "severity"),
    [
        (break_default, "openapi-schema", ERROR),
        (break_structure, "openapi-schema", ERROR),
        (break_ref, "ref-unresolved", ERROR),
        (break_external_ref, "ref-unresolved", ERROR),
        (break_revision_missing, "revision-header-required", ERROR),
        (break_revision_optional, "revision-header-required", ERROR),
        (break_operation_id_duplicate, "operation-id", ERROR),
        (break_operation_id_missing, "operation-id", ERROR),
        (break_response_media, "media-type", WARNING),
        (break_request_media, "media-type", WARNING),
        (break_ratelimit_format, "ratelimit", WARNING),
        (break_ratelimit_missing, "ratelimit", WARNING),
        (break_example, "drop-invalid-examples", ERROR),
        (break_oneof, "oneof-overlapping-primitives", ERROR),
        (break_path_nullable, "path-parameter-not-nullable", ERROR),
        (break_boolean_enum, "boolean-enum-nullable-or-redundant", ERROR),
        (break_nullable_ref, "nullable-without-type", ERROR),
        (break_inline_error, "hoist-inline-error-responses", WARNING),
        (break_template_example, "template-delimiters-in-examples", WARNING),
        (break_typeless_enum, "enum-type-from-values", ERROR),
        (break_typeless_string_enum, "enum-type-from-values", WARNING),  # every tool reads it as a string
        (break_enum_type, "enum-type-from-values", ERROR),
        (break_array_items, "array-items-required", ERROR),
    ],
    ids=lambda v: v.__name__.removeprefix("break_") if callable(v) else str(v),
)
def test_rule_reports_the_right_pointer(breaker: Callable[[Spec], str], rule: str, severity: Severity) -> None:
    spec = clean_spec()
    pointer = breaker(spec)
    assert (pointer, rule, severity) in [(f.pointer, f.rule, f.severity) for f in validate_spec(spec)]


def test_overlay_findings_come_from_the_fixes_detectors() -> None:
    """One rule per overlay fix, named after it, with the fix's severity: the validator has no copy of its own."""
    spec = clean_spec()
    break_oneof(spec)
    break_inline_error(spec)
    by_rule = {f.rule: f for f in validate_spec(spec)}
    for fix in FIXES:
        assert fix.name in RULES
        if fix.name in by_rule:
            assert by_rule[fix.name].severity is fix.severity
            assert by_rule[fix.name].pointer in {p.pointer for p in fix.detect(spec)}
    assert {"oneof-overlapping-primitives", "hoist-inline-error-responses"} <= set(by_rule)


def test_application_json_throughout_is_one_info_finding() -> None:
    """A spec that documents every JSON:API body as application/json follows its era's convention: info, once."""
    text = json.dumps(clean_spec()).replace(JSON_API, "application/json")
    findings = [f for f in validate_spec(json.loads(text)) if f.rule == "media-type"]
    assert [(f.pointer, f.severity) for f in findings] == [("#", Severity.info)]
    assert "4 places" in findings[0].message
    assert failing(findings, strict=True) == []


def test_daily_steady_limit_is_info_and_unreadable_limit_a_warning() -> None:
    spec = clean_spec()
    limits = spec["paths"]["/api/things/{id}"]["get"]["x-klaviyo-ratelimit"]
    limits["steady"] = "100/d"
    (finding,) = validate_spec(spec)
    assert (finding.pointer, finding.rule, finding.severity) == (
        GET + "/x-klaviyo-ratelimit/steady",
        "ratelimit",
        "info",
    )
    assert "per day" in finding.message
    limits["steady"] = "lots"
    (finding,) = validate_spec(spec)
    assert finding.severity is Severity.warning


def test_failing_by_severity() -> None:
    findings = [Finding("#", "r", "m", severity) for severity in Severity]
    assert [f.severity for f in failing(findings)] == [Severity.error]
    assert [f.severity for f in failing(findings, strict=True)] == [Severity.error, Severity.warning]


def test_unresolvable_ref_also_fails_prance_resolution() -> None:
    spec = clean_spec()
    break_ref(spec)
    assert ("#", "resolve") in findings_of(spec)


def test_overlay_clears_every_overlay_shaped_rule() -> None:
    spec = clean_spec()
    breakers = (
        break_default,
        break_revision_optional,
        break_oneof,
        break_path_nullable,
        break_boolean_enum,
        break_nullable_ref,
        break_inline_error,
        break_template_example,
        break_typeless_enum,
        break_enum_type,
        break_array_items,
    )
    for breaker in breakers:
        breaker(spec)
    assert len(validate_spec(spec)) >= len(breakers)
    assert validate_spec(apply_overlay(spec).spec) == []


def test_not_openapi_3() -> None:
    assert findings_of({"swagger": "2.0", "info": {}, "paths": {}}) == [("#/openapi", "openapi-version")]


# --- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def kdk() -> Callable[..., Result]:
    import kdk.commands.patch
    import kdk.commands.validate  # noqa: F401  (registers the verbs)
    from kdk.commands._app import app

    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return run


def write(tmp_path: Path, spec: Spec, name: str = "spec.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_cli_clean_exits_0(kdk: Callable[..., Result], tmp_path: Path) -> None:
    result = kdk("spec", "validate", str(write(tmp_path, clean_spec())))
    assert result.exit_code == 0, result.output
    assert "(patched): valid; 0 errors, 0 warnings, 0 info" in result.stderr


def test_cli_text_one_line_per_finding_and_summary(kdk: Callable[..., Result], tmp_path: Path) -> None:
    spec = clean_spec()
    pointer = break_oneof(spec)
    result = kdk("spec", "validate", "--raw", str(write(tmp_path, spec)))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{pointer}: error: oneof-overlapping-primitives: oneOf branches can match the same value, so Draft 4 "
        "validators reject it (use anyOf)"
    ]
    assert "1 failing; 1 error, 0 warnings, 0 info (oneof-overlapping-primitives 1)" in result.stderr
    # the same spec passes once patched (the default)
    assert kdk("spec", "validate", str(write(tmp_path, spec))).exit_code == 0


def test_cli_json_is_a_list_of_findings_and_strict_fails_warnings(kdk: Callable[..., Result], tmp_path: Path) -> None:
    spec = clean_spec()
    pointer = break_ratelimit_format(spec)
    path = write(tmp_path, spec)
    result = kdk("spec", "validate", "--format", "json", str(path))
    assert result.exit_code == 0, result.output  # a warning does not fail...
    message = "steady '150 per minute' is not 'N/m' (not enforced)"
    assert json.loads(result.stdout) == [
        {"pointer": pointer, "rule": "ratelimit", "severity": "warning", "message": message}
    ]
    assert "valid; 0 errors, 1 warning, 0 info" in result.stderr
    strict = kdk("spec", "validate", "--strict", str(path))  # ...unless --strict
    assert strict.exit_code == 1
    assert strict.stdout.splitlines() == [f"{pointer}: warning: ratelimit: {message}"]
    assert "1 failing (--strict)" in strict.stderr


def test_cli_info_never_fails(kdk: Callable[..., Result], tmp_path: Path) -> None:
    path = write(tmp_path, json.loads(json.dumps(clean_spec()).replace(JSON_API, "application/json")))
    for args in ((), ("--strict",), ("--raw", "--strict")):
        result = kdk("spec", "validate", *args, str(path))
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("#: info: media-type: ")


CONTROL_CHAR_SPEC = (
    '{\n "openapi": "3.0.2",\n "info": {"title": "t", "version": "1", "description": "two\nlines"},\n "paths": {}\n}\n'
)


def test_cli_control_characters_give_a_located_error_without_traceback(
    kdk: Callable[..., Result], tmp_path: Path
) -> None:
    path = tmp_path / "broken.txt"  # not .yaml: read as JSON
    path.write_text(CONTROL_CHAR_SPEC, encoding="utf-8")
    result = kdk("spec", "validate", str(path))
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{path}:3:60: invalid JSON: raw control character '\\n'" in result.stderr
    assert "Traceback" not in result.output

    lenient = kdk("spec", "validate", "--lenient", str(path))
    assert lenient.exit_code == 0, lenient.output


@pytest.mark.parametrize("content", [b"", b"[1, 2]", b"\xff\xfe not utf-8", b"<html>not a spec</html>"])
def test_cli_unreadable_input_exits_2(kdk: Callable[..., Result], tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    result = kdk("spec", "validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}")


def test_cli_missing_file_exits_2(kdk: Callable[..., Result], tmp_path: Path) -> None:
    result = kdk("spec", "validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "cannot read file" in result.stderr


def test_cli_seed_004_located_error_and_lenient(kdk: Callable[..., Result], mirror: Path) -> None:
    seed = mirror.parent / "seeds" / "004_4aaf4ec3de36ff1c.txt"
    if not seed.is_file():
        pytest.skip("seed 004 is not beside the mirror")
    result = kdk("spec", "validate", str(seed))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {seed}:34:82: invalid JSON: raw control character")
    assert kdk("spec", "validate", "--lenient", str(seed)).exit_code in (0, 1)


def test_cli_patch_writes_the_cache_and_prints_the_report(
    kdk: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(tmp_path / "project"))
    spec = clean_spec()
    break_oneof(spec)
    break_path_nullable(spec)
    path = write(tmp_path, spec)
    result = kdk("spec", "patch", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["oneof-overlapping-primitives", "1"] for line in lines)
    assert any(line.split()[:2] == ["path-parameter-not-nullable", "1"] for line in lines)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    written = tmp_path / "project" / "openapi" / ".cache" / "patched" / f"{sha}.json"
    assert lines[-1].endswith(str(written))
    assert json.loads(written.read_text(encoding="utf-8")) == apply_overlay(spec).spec


def test_cli_spec_too_broken_to_patch_is_validated_raw(kdk: Callable[..., Result], tmp_path: Path) -> None:
    spec = clean_spec()
    spec["components"]["schemas"]["Thing"]["properties"]["x"] = {
        "default": 1,
        "oneOf": [{"$ref": "#/components/schemas/Nope"}, {"type": "object", "properties": {"a": {}}}],
    }
    result = kdk("spec", "validate", "--format", "json", str(write(tmp_path, spec)))
    assert result.exit_code == 1
    rules = {f["rule"] for f in json.loads(result.stdout)}
    assert {"ref-unresolved", "resolve"} <= rules


@pytest.mark.parametrize("verb", ["validate", "patch"])
def test_cli_without_a_pinned_spec_exits_2(
    kdk: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verb: str
) -> None:
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(tmp_path))
    result = kdk("spec", verb)
    assert result.exit_code == 2
    assert "kdk spec fetch" in result.stderr


# --- hostile input: never read files or the network through $ref, bounded nesting and YAML aliases --------


def test_cli_never_reads_a_file_or_the_network_through_ref(
    kdk: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    secret = tmp_path / "secret.json"
    secret.write_text('{"type": "string", "description": "TOP-SECRET-CONTENT"}', encoding="utf-8")
    connections: list[Any] = []

    def no_network(self: socket.socket, address: Any) -> None:
        connections.append(address)
        raise OSError("the validator must not connect anywhere")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    spec = clean_spec()
    props = spec["components"]["schemas"]["Thing"]["properties"]
    props["a"] = {"$ref": secret.as_uri()}
    props["b"] = {"$ref": "http://127.0.0.1:9/remote.json#/Owner"}
    props["c"] = {"$ref": "secret.json"}
    path = write(tmp_path, spec)
    for args in ((), ("--raw",), ("--format", "json")):
        result = kdk("spec", "validate", *args, str(path))
        assert result.exit_code == 1, result.output
        assert "TOP-SECRET" not in result.output
        assert "check crashed" not in result.output
        assert result.stdout.count("ref-unresolved") == 3
    assert connections == []


@pytest.mark.parametrize("levels", [200, 100_000])
def test_cli_deeply_nested_json_is_one_line_exit_2(kdk: Callable[..., Result], tmp_path: Path, levels: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"openapi": "3.0.2", "x": ' + "[" * levels + "]" * levels + "}", encoding="utf-8")
    for verb in ("validate", "patch"):
        result = kdk("spec", verb, str(path))
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: {path}: ") and "nested too deeply" in line
        assert "Traceback" not in result.output


YAML_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [(YAML_BOMB, "expands to more than"), ("openapi: &a [1, *a]\n", "cycle"), ("a: &a [*a]\n", "cycle")],
    ids=["billion-laughs", "recursive-alias", "self-alias"],
)
def test_cli_yaml_aliases_are_bounded(kdk: Callable[..., Result], tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    result = kdk("spec", "validate", str(path))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert reason in result.stderr
    assert "Traceback" not in result.output


def test_yaml_with_a_few_aliases_still_loads(tmp_path: Path) -> None:
    text = "openapi: 3.0.2\ninfo: {title: t, version: '1'}\nx-shared: &s {type: string}\nx-again: [*s, *s]\npaths: {}\n"
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_spec(path)["x-again"] == [{"type": "string"}, {"type": "string"}]


def test_cli_help(kdk: Callable[..., Result]) -> None:
    for verb in ("validate", "patch"):
        result = kdk("spec", verb, "--help")
        assert result.exit_code == 0
        assert "Usage" in result.output


# --- the mirror: raw has errors (the overlay's shapes), patched has none ---------------------------------

MIRROR_SPECS = mirror_revisions()  # every (ref, channel) in the mirror
_OVERLAY_RULES = {fix.name for fix in FIXES}
# Identical files (main == the newest dated revision) are validated once per test process.
_validated: dict[tuple[str, bool], list[Finding]] = {}


def validated(path: Path, *, patched: bool) -> list[Finding]:
    key = (hashlib.sha256(path.read_bytes()).hexdigest(), patched)
    if key not in _validated:
        spec = load_spec(path)
        _validated[key] = validate_spec(apply_overlay(spec, copy_spec=False).spec if patched else spec)
    return _validated[key]


def _schema_of(pointer: str) -> str:
    """The schema a keyword finding sits in (`.../font_family/default` -> `.../font_family`)."""
    head, _, last = pointer.rpartition("/")
    return head if last in ("default", "example", "enum", "type") else pointer


@pytest.mark.mirror
@pytest.mark.slow
@pytest.mark.parametrize(("ref", "channel"), MIRROR_SPECS, ids=[f"{r}-{c}" for r, c in MIRROR_SPECS])
def test_mirror_patched_has_no_errors_and_raw_errors_are_the_overlays(mirror: Path, ref: str, channel: str) -> None:
    path = mirror / ref / "openapi" / f"{channel}.json"
    patched = validated(path, patched=True)
    assert failing(patched) == []
    assert not [f for f in patched if f.rule in _OVERLAY_RULES]

    raw = validated(path, patched=False)
    assert [f for f in raw if f.rule in _OVERLAY_RULES], "the raw spec should need the overlay"
    # every structural error openapi-spec-validator finds in the raw spec is a shape some overlay fix detects
    detected = [f.pointer for f in raw if f.rule in _OVERLAY_RULES]
    unexplained = [
        f
        for f in failing(raw)
        if f.rule not in _OVERLAY_RULES and not any(d.startswith(_schema_of(f.pointer)) for d in detected)
    ]
    assert unexplained == []
