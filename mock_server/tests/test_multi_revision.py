"""One mock, several revisions: each request is served by the revision its `revision` header names."""

from __future__ import annotations

from pathlib import Path

import pytest

from kdk import mirror_revisions
from kdk.spec import iter_operations, load_spec
from mock_server import create_app
from mock_server._revision import choose_revision

from .conftest import asgi_client

LOADED = ["2024-07-15", "2026-07-15", "2026-07-15.pre"]


@pytest.mark.parametrize(
    ("requested", "served", "error"),
    [
        ("2024-07-15", "2024-07-15", None),  # exact
        ("2026-07-15.pre", "2026-07-15.pre", None),  # exact beta
        ("2025-03-01", "2024-07-15", None),  # newest released on or before the date
        ("2030-01-01", "2026-07-15", None),  # a date after every loaded revision: the newest stable
        ("2023-01-01", "2026-07-15", "older than every revision"),  # before every loaded one
        ("2025-07-15.pre", "2026-07-15", "Beta revision"),  # betas only exact
        ("not-a-date", "2026-07-15", None),  # routed with the default; `requested_revision` answers 400
        (None, "2026-07-15", None),
    ],
)
def test_revision_policy(requested: str | None, served: str, error: str | None) -> None:
    chosen, problem = choose_revision(requested, LOADED, "2026-07-15")
    assert chosen == served
    if error is None:
        assert problem is None
    else:
        assert problem is not None and error in problem.errors[0]["detail"]
        assert problem.status == 400 and "2024-07-15" in problem.errors[0]["detail"]


def _pair(mirror: Path) -> tuple[Path, Path]:
    """The oldest and the newest stable revision of the mirror (they differ in media types and operations)."""
    stable = [ref for ref, channel in mirror_revisions(mirror) if channel == "stable" and ref[:4].isdigit()]
    assert len(stable) >= 2, "the mirror holds fewer than two stable revisions"
    return (mirror / stable[0] / "openapi" / "stable.json", mirror / stable[-1] / "openapi" / "stable.json")


@pytest.mark.mirror
@pytest.mark.slow
async def test_one_mock_serves_two_revisions(mirror: Path) -> None:
    old_path, new_path = _pair(mirror)
    old, new = load_spec(old_path), load_spec(new_path)
    old_rev, new_rev = str(old["info"]["version"]), str(new["info"]["version"])
    app = create_app(new_path, revisions=[old_path])
    auth = {"Authorization": "Klaviyo-API-Key pk_test"}
    old_ops = {(o.method, o.path.rstrip("/")) for o in iter_operations(old)}  # older revisions end paths in /
    # a GET without path parameters only the newer revision has: 404 on the old one, 200 on the new one
    only_new = next(
        o.path
        for o in iter_operations(new)
        if o.method == "get" and "{" not in o.path and ("get", o.path.rstrip("/")) not in old_ops
    )
    new_ops = {(o.method, o.path.rstrip("/")) for o in iter_operations(new)}
    shared = next(p for m, p in sorted(old_ops & new_ops) if m == "get" and "{" not in p)
    async with asgi_client(app) as client:
        for revision, spec in ((old_rev, old), (new_rev, new)):
            response = await client.get(shared, headers={**auth, "revision": revision})
            assert response.status_code == 200, response.text
            assert response.headers["revision"] == revision
            path = next(p for p in spec["paths"] if p.rstrip("/") == shared)
            documented = next(iter(spec["paths"][path]["get"]["responses"]["200"]["content"]))
            assert response.headers["content-type"] == documented
        assert (await client.get(only_new, headers={**auth, "revision": new_rev})).status_code == 200
        missing = await client.get(only_new, headers={**auth, "revision": old_rev})
        assert missing.status_code == 404 and missing.headers["revision"] == old_rev
        # a date between the two is served by the older one, a later date by the newer one
        between = await client.get(shared, headers={**auth, "revision": f"{old_rev[:4]}-12-31"})
        assert between.headers["revision"] == old_rev
        later = await client.get(shared, headers={**auth, "revision": "2099-01-01"})
        assert later.headers["revision"] == new_rev
        too_old = await client.get(shared, headers={**auth, "revision": "2000-01-01"})
        assert too_old.status_code == 400
        error = too_old.json()["errors"][0]
        assert (
            error["source"] == {"parameter": "revision"} and old_rev in error["detail"] and new_rev in error["detail"]
        )
        beta = await client.get(shared, headers={**auth, "revision": f"{new_rev}.pre"})
        assert beta.status_code == 400
        served = await client.get("/openapi.json", headers={"revision": old_rev})
        assert served.json()["info"]["version"] == old_rev


@pytest.mark.mirror
@pytest.mark.slow
async def test_kdk_mock_revisions_option_fetches_and_serves_each(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_server._serve import ServeOptions, build_core

    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    old_path, new_path = _pair(mirror)
    refs = [old_path.parents[1].name, new_path.parents[1].name]
    core = build_core(ServeOptions(revisions=refs))
    assert sorted(core.served) == sorted(str(load_spec(p)["info"]["version"]) for p in (old_path, new_path))
    async with asgi_client(core) as client:
        for revision in core.served:
            response = await client.get(
                "/api/lists", headers={"Authorization": "Klaviyo-API-Key k", "revision": revision}
            )
            assert response.status_code == 200 and response.headers["revision"] == revision
