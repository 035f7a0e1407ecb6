"""The HTTP connection limits of `kdk mock` (applied by `_http.LimitedHttpToolsProtocol`)."""

from __future__ import annotations

import resource
from dataclasses import dataclass

__all__ = ["HttpLimits"]


@dataclass(frozen=True)
class HttpLimits:
    header_timeout: float = 10.0  # seconds for the request line and headers
    body_timeout: float = 30.0  # seconds without a byte of a body the app is waiting for
    max_header_bytes: int = 32 * 1024  # request line + headers
    max_connections: int = 0  # 0: derived from the open-files limit

    def resolved_max_connections(self) -> int:
        if self.max_connections > 0:
            return self.max_connections
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return max(64, soft - 128)  # headroom for the store, logs and the listening socket
