"""Typed filter builders (issue 14, item 5): per operation, from the spec's `x-klaviyo-filters`."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from kdk.spec import iter_operations
from kdk.spec._pinned import load_pinned_spec


def test_one_builder_per_filterable_operation(kc: ModuleType) -> None:
    import klaviyo_client.filters as filters

    spec = load_pinned_spec()
    wanted = {op.operation_id for op in iter_operations(spec) if op.node.get("x-klaviyo-filters")}
    assert wanted
    for operation_id in wanted:
        builder = getattr(filters, "".join(part.title() for part in operation_id.split("_")) + "Filter")
        table = next(op for op in iter_operations(spec) if op.operation_id == operation_id).node["x-klaviyo-filters"]
        fields = {(operator, field) for operator, by_field in builder.ALLOWED.items() for field in by_field}
        assert fields == {
            (operator, field)
            for field, spec_field in table.items()
            for names in spec_field["operators"].values()
            for operator in names
        }


def test_values_are_formatted_as_klaviyo_expects(kc: ModuleType) -> None:
    from klaviyo_client.filters import GetEventsFilter, GetProfilesFilter

    f = GetProfilesFilter
    assert f.equals("email", "a@example.com") == "equals(email,'a@example.com')"
    assert f.equals("email", "o'neil@example.com") == "equals(email,'o\\'neil@example.com')"
    assert f.any("email", ["a@example.com", "b@example.com"]) == 'any(email,["a@example.com","b@example.com"])'
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert f.greater_than("created", when) == "greater-than(created,2026-01-02T03:04:05+00:00)"
    both = f.equals("email", "a@example.com") & f.less_than("updated", when)
    assert both == "and(equals(email,'a@example.com'),less-than(updated,2026-01-02T03:04:05+00:00))"
    assert GetEventsFilter.has("profile") == "has(profile)"
    assert GetEventsFilter.greater_or_equal("timestamp", 1700000000) == "greater-or-equal(timestamp,1700000000)"
    assert isinstance(both, str)


def test_wrong_field_operator_or_value_kind_raise(kc: ModuleType) -> None:
    from klaviyo_client.filters import FilterError, GetProfilesFilter

    bad: Any = GetProfilesFilter
    with pytest.raises(FilterError, match="does not take field 'first_name'"):
        bad.equals("first_name", "x")
    with pytest.raises(FilterError, match="list"):
        bad.greater_than("created", ["2026-01-01"])  # created takes one value, not a list


def test_filter_goes_on_the_wire(kc: ModuleType) -> None:
    from klaviyo_client.filters import GetProfilesFilter

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "links": {"self": "s"}})

    client = kc.Klaviyo("pk", transport=httpx.MockTransport(handler), retry=None)
    client.profiles.get_profiles(filter_=GetProfilesFilter.any("email", ["a@example.com"]))
    assert seen[0].url.params["filter"] == 'any(email,["a@example.com"])'


@pytest.mark.slow  # mypy over the package's import closure: seconds warm, ~half a minute cold
def test_a_wrong_field_is_a_type_error(full_client: tuple[Path, Any], tmp_path: Path) -> None:
    """mypy rejects a field the operation does not allow for that operator, and accepts the allowed ones."""
    snippet = tmp_path / "use_filters.py"
    snippet.write_text(
        "from klaviyo_client.filters import GetProfilesFilter as F\n"
        "ok = F.equals('email', 'a@example.com')\n"
        "bad = F.equals('first_name', 'x')\n"
        "bad_operator = F.greater_than('email', 'x')\n",
        encoding="utf-8",
    )
    root = full_client[0].parent
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", str(snippet)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["3", "4"], proc.stdout
    assert all("Literal" in line or "incompatible type" in line for line in errors), proc.stdout
