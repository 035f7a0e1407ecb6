"""A bare ASGI app under `kdk mock`'s uvicorn setup (`uvicorn_kwargs`): the ceiling the benchmarks compare the
stateless mock's GET throughput with (scripts/bench_mock.py, scripts/bench_state.py). Usage: _bare_asgi_app.py PORT"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

from mock_server import HttpLimits, uvicorn_kwargs

BODY = b'{"data": {"type": "profile", "id": "01GMTZY2TEKN4KFRP30JZ59KGB", "attributes": {}}}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/vnd.api+json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(app, lifespan="off", **uvicorn_kwargs("127.0.0.1", int(sys.argv[1]), "warning", HttpLimits()))
