"""Logging of requests and retries, switched on by the environment: `KLAVIYO_LOG=debug` (every request and
retry) or `KLAVIYO_LOG=info` (retries only). Without it the `klaviyo_client` logger stays silent (standard
`logging` configuration applies as usual)."""

from __future__ import annotations

import logging
import os

__all__ = ["logger", "setup_logging"]

logger = logging.getLogger("klaviyo_client")
_configured = False


def setup_logging() -> None:
    """Read `KLAVIYO_LOG` once (on the first client created) and attach a stderr handler if it asks for logs."""
    global _configured
    if _configured:
        return
    _configured = True
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get(os.environ.get("KLAVIYO_LOG", "").strip().lower())
    if level is None:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
