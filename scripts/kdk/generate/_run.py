"""Drive openapi-python-client as a library: patched spec in, formatted `klaviyo_client` project out."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._paths import package_data_dir
from ..spec import PatchedSpec
from ._naming import readable_names
from ._prepare import prepare_spec
from ._templates import TemplateHelpers
from ._version import package_version

__all__ = [
    "GENERATOR_VERSION",
    "PACKAGE_NAME",
    "GenerateResult",
    "GeneratorVersionError",
    "generate_project",
    "generator_dir",
    "ruff_bin",
    "runtime_dir",
    "runtime_modules",
]

Spec = dict[str, Any]
PACKAGE_NAME = "klaviyo_client"
# Our templates copy and extend this release's templates; another release must be re-checked before use.
GENERATOR_VERSION = "0.29.1"
_DROPPED_SCHEMA = re.compile(r"/components/schemas/[^\s]+")


class GeneratorVersionError(RuntimeError):
    pass


def generator_dir() -> Path:
    """config.yaml and templates/: openapi/generator in a checkout, package data in a wheel."""
    return package_data_dir("generator")


def ruff_bin() -> str:
    # The ruff of our venv, whatever PATH says.
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    return str(find_ruff_bin())


@dataclass(frozen=True)
class GenerationCounts:
    """What one generator run produced: counts, what it left out, its warnings and its time."""

    revision: str
    version: str
    operations_expected: int
    operations_generated: int
    missing_operations: list[str]
    schemas_expected: int
    dropped_schemas: list[str]
    models: int
    modules: int
    warnings: list[str]
    seconds: float
    timings: dict[str, float]


@dataclass(frozen=True)
class GenerateResult(GenerationCounts):
    project_dir: Path

    @property
    def package_dir(self) -> Path:
        return self.project_dir / PACKAGE_NAME

    @property
    def complete(self) -> bool:
        return not self.missing_operations and not self.dropped_schemas


def _check_generator_version() -> None:
    from importlib.metadata import version

    found = version("openapi-python-client")
    if found != GENERATOR_VERSION:
        raise GeneratorVersionError(
            f"openapi-python-client {found} is installed; the templates in openapi/generator/ were written for "
            f"{GENERATOR_VERSION} (update them, then GENERATOR_VERSION in kdk/generate/_run.py)"
        )


def _format_error(error: Any) -> str:
    header = str(getattr(error, "header", "") or "").strip()
    detail = str(getattr(error, "detail", "") or "").strip()
    return f"{header}: {detail}" if header and detail else header or detail or repr(error)


def _run_ruff(project_dir: Path) -> None:
    ruff = ruff_bin()
    # --fix-only removes the imports our templates no longer use (e.g. per-operation error models) and sorts the rest.
    # --no-respect-gitignore: the tree sits in git-ignored places (generated/, openapi/.cache/), which ruff would skip.
    common = ["--quiet", "--no-cache", "--no-respect-gitignore", PACKAGE_NAME]
    for args in (["check", "--fix-only", *common], ["format", *common]):
        subprocess.run([ruff, *args], cwd=project_dir, check=True, capture_output=True)


def runtime_dir() -> Path:
    """scripts/kdk/generate/runtime: the client's runtime layer, plain Python copied into the package."""
    return Path(__file__).parent / "runtime"


def runtime_modules() -> list[Path]:
    return sorted(p for p in runtime_dir().glob("*.py") if p.name != "__init__.py")


def _render_extra(project: Any, openapi: Any) -> None:
    """Files openapi-python-client has no template slot for: the runtime layer (copied over the generator's own
    client.py, errors.py, types.py), the version, the resource namespaces and the lazy models index."""
    package = project.package_dir
    for module in runtime_modules():
        shutil.copyfile(module, package / module.name)
    env = project.env
    (package / "_version.py").write_text(env.get_template("version.py.jinja").render(), encoding="utf-8")
    tags = sorted(openapi.endpoint_collections_by_tag.items())
    (package / "_client.py").write_text(env.get_template("klaviyo.py.jinja").render(tags=tags), encoding="utf-8")
    (package / "resources").mkdir(exist_ok=True)
    (package / "resources" / "__init__.py").write_text('"""One module per tag: the resource namespaces."""\n')
    for tag, collection in tags:
        rendered = env.get_template("resource.py.jinja").render(tag=tag, collection=collection)
        (package / "resources" / f"{tag}.py").write_text(rendered, encoding="utf-8")
    filterable = [
        (tag, endpoint, ops)
        for tag, collection in tags
        for endpoint in collection.endpoints
        if (ops := env.globals["kdk"].filters(endpoint))
    ]
    rendered = env.get_template("filters.py.jinja").render(filterable=filterable)
    (package / "filters.py").write_text(rendered, encoding="utf-8")
    lazy = sorted((str(m.class_info.name), str(m.class_info.module_name)) for m in [*openapi.models, *openapi.enums])
    for name in ("_index.py", "__init__.pyi"):
        rendered = project.env.get_template(f"models/{name}.jinja").render(lazy=lazy)
        (project.package_dir / "models" / name).write_text(rendered, encoding="utf-8")


def generate_project(patched: PatchedSpec | Spec, project_dir: Path, *, run_ruff: bool = True) -> GenerateResult:
    """Generate the client project (pyproject.toml + klaviyo_client/) into `project_dir`, replacing it.

    `patched`: the patched spec (a plain dict is taken as already patched).

    Never raises for an incomplete client: the result says what is missing so the caller can report it.
    """
    _check_generator_version()
    from openapi_python_client import Project
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser import GeneratorData
    from openapi_python_client.parser.errors import GeneratorError

    started = time.perf_counter()
    timings: dict[str, float] = {}
    config_file = ConfigFile.load_from_path(generator_dir() / "config.yaml")
    prepared = prepare_spec(
        patched.content if isinstance(patched, PatchedSpec) else patched, field_prefix=config_file.field_prefix
    )
    version = package_version(prepared.revision)
    config_file.package_version_override = version
    config = Config.from_sources(
        config_file,
        MetaType.UV,  # any non-NONE meta: we want pyproject.toml + py.typed (our pyproject template picks hatchling)
        document_source=f"(patched spec, revision {prepared.revision})",
        file_encoding="utf-8",
        overwrite=True,
        output_path=project_dir,
    )
    if project_dir.exists():
        shutil.rmtree(project_dir)
    project_dir.parent.mkdir(parents=True, exist_ok=True)

    with readable_names(), contextlib.redirect_stdout(io.StringIO()):
        mark = time.perf_counter()
        openapi = GeneratorData.from_dict(prepared.spec, config=config)
        timings["parse"] = time.perf_counter() - mark
        if isinstance(openapi, GeneratorError):
            raise RuntimeError(f"openapi-python-client rejected the spec: {_format_error(openapi)}")
        project = Project(openapi=openapi, config=config, custom_template_path=generator_dir() / "templates")
        project.env.add_extension("jinja2.ext.do")
        project.env.globals["kdk"] = TemplateHelpers(prepared, config_file.field_prefix)
        mark = time.perf_counter()
        errors = list(project.build())
        _render_extra(project, openapi)
        timings["render"] = time.perf_counter() - mark

    if run_ruff:
        mark = time.perf_counter()
        _run_ruff(project_dir)
        timings["ruff"] = time.perf_counter() - mark

    generated = {
        (str(endpoint.method).upper(), endpoint.path.get_untrusted_value())
        for collection in openapi.endpoint_collections_by_tag.values()
        for endpoint in collection.endpoints
    }
    missing = [f"{method} {path}" for method, path in prepared.operations if (method, path) not in generated]
    # openapi-python-client keeps going when it cannot build a schema: it reports it and leaves it out.
    dropped: list[str] = []
    for error in errors:
        text = _format_error(error)
        if "Unable to process schema" in text or "removal of" in text:
            dropped.extend(m.rstrip(":") for m in _DROPPED_SCHEMA.findall(text) if m.rstrip(":") not in dropped)
    package_dir = project.package_dir
    return GenerateResult(
        project_dir=project_dir,
        revision=prepared.revision,
        version=version,
        operations_expected=len(prepared.operations),
        operations_generated=len(prepared.operations) - len(missing),
        missing_operations=missing,
        schemas_expected=len(prepared.schema_names),
        dropped_schemas=sorted(dropped),
        models=sum(1 for p in (package_dir / "models").glob("*.py") if not p.name.startswith("_")),
        modules=sum(1 for _ in package_dir.rglob("*.py")),
        warnings=[_format_error(e) for e in errors],
        seconds=time.perf_counter() - started,
        timings=timings,
    )
