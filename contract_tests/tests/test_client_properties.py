"""Hypothesis properties of the generated client, alone and against a running mock.

- every model: a value drawn from its schema survives `from_dict(to_dict(x))` (sharded: all models per run),
  parsed in strict mode (a deviation from the spec raises `ResponseValidationError` instead of being kept);
- every operation, called through the client with drawn valid arguments, returns its typed 2xx answer;
- every operation's documented error statuses, forced with `Prefer: code=`, raise the typed KlaviyoApiError.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contract_tests._client_calls import arguments, endpoint_calls
from contract_tests._models import model_schemas, shard_of
from contract_tests._strategies import values_for
from contract_tests.exclusions import KNOWN_CLIENT_FAILURES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

DEEP = os.environ.get("KDK_CONTRACT_PROFILE") == "deep"
SHARDS = 8
EXAMPLES_PER_MODEL = 20 if DEEP else 2


def _settings(max_examples: int, *, shrink: bool = True) -> settings:
    # No shrinking where each example is a request to the mock: report the first failing call as drawn.
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.generate)
    return settings(
        max_examples=max_examples,
        phases=phases,
        deadline=None,
        database=None,
        derandomize=not DEEP,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def _hold(strategy: st.SearchStrategy[Any], prop: Any, max_examples: int, *, shrink: bool = True) -> None:
    """Run `prop(value)` for values drawn from `strategy` (Hypothesis reports the failure, shrunk if asked)."""

    @_settings(max_examples, shrink=shrink)
    @given(strategy)
    def run(value: Any) -> None:
        prop(value)

    run()


def _object_models(client_package: Any, client_spec: dict[str, Any]) -> list[str]:
    import klaviyo_client.models as models
    from klaviyo_client.models._index import MODULE_OF

    return [name for name in model_schemas(client_spec, set(MODULE_OF)) if hasattr(getattr(models, name), "from_dict")]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_models_survive_a_dict_round_trip(shard: int, client_package: Any, client_spec: dict[str, Any]) -> None:
    import klaviyo_client.models as models

    names = [n for n in _object_models(client_package, client_spec) if shard_of(n, SHARDS) == shard]
    assert names
    failures: dict[str, str] = {}
    for name in names:
        model = getattr(models, name)
        known = name in KNOWN_CLIENT_FAILURES

        def round_trip(value: Any, model: Any = model) -> None:
            from klaviyo_client._drift import parse_with

            instance = parse_with(True, lambda: model.from_dict(value))
            again = parse_with(True, lambda: model.from_dict(instance.to_dict()))
            assert again.to_dict() == instance.to_dict()
            assert again == instance

        try:
            _hold(values_for(client_spec, {"$ref": f"#/components/schemas/{name}"}), round_trip, EXAMPLES_PER_MODEL)
        except Exception as exc:
            if not known:
                failures[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
        else:
            if known:
                failures[name] = "listed in exclusions.KNOWN_CLIENT_FAILURES but passes now: remove the entry"
    assert not failures, "\n".join(f"{k}: {v}" for k, v in sorted(failures.items()))


def test_every_model_is_in_a_shard(client_package: Any, client_spec: dict[str, Any]) -> None:
    names = _object_models(client_package, client_spec)
    assert len(names) > 1000
    assert {shard_of(n, SHARDS) for n in names} == set(range(SHARDS))


def _client(client_package: Any, mock: Any, **kwargs: Any) -> Any:
    retry = kwargs.pop("retry", None)
    # strict: the mock's answers must match the spec exactly (the default client would keep deviations)
    return client_package.KlaviyoClient(
        mock.api_key, base_url=mock.base_url, revision=mock.revision, retry=retry, strict=True, **kwargs
    )


def _package_dir(client_package: Any) -> Path:
    return Path(client_package.__file__).parent


def test_every_operation_returns_its_typed_2xx_model_and_raises_the_typed_error(
    client_package: Any, client_spec: dict[str, Any], stateless_mock: Any
) -> None:
    """Per operation: one call with drawn valid arguments -> its typed 2xx answer; the same call with one of its
    documented error statuses forced by `Prefer: code=` (rotating over 400/403/404/429/500/503 where documented)
    -> KlaviyoApiError carrying the parsed JSON:API error."""
    from klaviyo_client import KlaviyoApiError
    from klaviyo_client.types import Response

    calls = endpoint_calls(client_spec, _package_dir(client_package))
    assert len(calls) == 345
    failures: dict[str, str] = {}
    statuses_forced: set[int] = set()
    forcing = {s: _client(client_package, stateless_mock, headers={"Prefer": f"code={s}"}) for s in FORCED_STATUSES}
    with _client(client_package, stateless_mock) as client:
        for n, call in enumerate(calls):
            candidates = [s for s in FORCED_STATUSES if _documents(call.error_statuses, s)]
            status = candidates[n % len(candidates)] if candidates else None

            def call_once(data: Any, call: Any = call, status: int | None = status) -> None:
                module, kwargs = arguments(client_spec, call, data.draw)
                response = module.sync_detailed(client=client, **kwargs)
                assert isinstance(response, Response)
                assert 200 <= response.status_code < 300, response.content[:300]
                if response.status_code not in call.bodiless_success:
                    assert response.parsed is not None, (
                        f"untyped 2xx {response.status_code}: {response.content[:200]!r}"
                    )
                    assert not isinstance(response.parsed, dict), "a raw dict, not a model"
                if status is None:
                    return
                with pytest.raises(KlaviyoApiError) as info:
                    module.sync(client=forcing[status], **kwargs)
                assert info.value.status_code == status
                first = info.value.first
                assert first is not None and int(first.status) == status and first.title, info.value.errors

            try:
                _hold(st.data(), call_once, 1, shrink=False)
                if status is not None:
                    statuses_forced.add(status)
            except BaseException as exc:
                failures[call.operation_id] = _describe(exc)
    for forcing_client in forcing.values():
        forcing_client.close()
    assert not failures, f"{len(failures)} operations:\n" + "\n".join(f"{k}: {v}" for k, v in sorted(failures.items()))
    assert statuses_forced == set(FORCED_STATUSES)


FORCED_STATUSES = (400, 403, 404, 429, 500, 503)


def _documents(documented: tuple[int, ...], status: int) -> bool:
    return status in documented or (status // 100) * 100 in documented


def _describe(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return " | ".join(_describe(e) for e in inner)
    return f"{type(exc).__name__}: {str(exc)[:400]}"
