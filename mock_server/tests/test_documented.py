"""Only documented statuses leave the mock, in the media type documented for them (`_documented.py`)."""

from __future__ import annotations

import pytest

from mock_server import MockResponse, error_response
from mock_server._compile import Operation
from mock_server._documented import UNDOCUMENTED_STATUS_HEADER, conform, documented_status


def _operation(statuses: list[str], media: dict[str, str]) -> Operation:
    success = min(int(s) for s in statuses if s.startswith("2"))
    return Operation(
        operation_id="op",
        method="post",
        path="/api/things",
        params=[],
        public=False,
        body=None,
        statuses=statuses,
        success=success,
        templates={},
        media_types=media,
        resource_type=None,
    )


@pytest.mark.parametrize(
    ("statuses", "status", "expected"),
    [
        (["200", "4XX", "5XX"], 429, 429),  # documented through a range
        (["200", "400", "404"], 409, 400),  # the lowest explicit code of the class
        (["200", "5XX"], 404, 500),  # no 4xx documented: a documented error class
        (["202"], 400, 202),  # no error documented at all: the success status
        (["200", "default"], 418, 418),  # `default` documents everything
    ],
)
def test_documented_status(statuses: list[str], status: int, expected: int) -> None:
    assert documented_status(_operation(statuses, {}), status) == expected


def test_conform_uses_the_documented_media_type_for_errors() -> None:
    op = _operation(["200", "4XX", "5XX"], {"200": "application/json", "4XX": "application/json"})
    response = conform(op, error_response(404, "Not found."))
    assert (response.status, response.media_type) == (404, "application/json")


def test_conform_names_the_status_it_could_not_send() -> None:
    op = _operation(["202"], {})
    response = conform(op, error_response(400, "'data' is required."))
    assert response.status == 202 and response.body is None and response.raw is None
    assert response.headers[UNDOCUMENTED_STATUS_HEADER] == "400"
    assert "'data' is required." in response.headers["x-kdk-mock-error-detail"]


def test_conform_keeps_what_a_behaviour_chose() -> None:
    op = _operation(["201", "4XX"], {"201": "application/vnd.api+json"})
    response = conform(op, MockResponse(201, {"data": None}, media_type="application/vnd.api+json"))
    assert (response.status, response.media_type) == (201, "application/vnd.api+json")


def test_conform_keeps_a_behaviours_body_on_a_status_documented_without_one() -> None:
    op = _operation(["202", "4XX"], {"4XX": "application/json"})
    response = conform(op, MockResponse(202, {"data": {"type": "message"}}))
    assert response.body == {"data": {"type": "message"}} and response.media_type == "application/json"
