"""Fetch a revision of Klaviyo's spec into the cache and pin it in the lock; check the cache against the lock.

Sources are laid out like github.com/klaviyo/openapi: `<source>/<ref>/openapi/<channel>.json`, where
`<source>` is a base URL (default: the repository's raw files) or a local directory (a mirror).

Every step is atomic: bytes go to a temp file beside the cache, are hashed while they arrive, checked
(sha256 when pinned, parses as an OpenAPI document), and only then renamed into the cache, which is keyed
by sha256, so the previous lock's spec is never overwritten with other bytes. The lock is written last.
Every failure is a `FetchError` with a one-line message; connect errors, timeouts, 5xx and truncated
bodies are retried with exponential backoff.

The lock stays machine-independent: a spec fetched from a local directory is recorded under the canonical
GitHub source and URL (a mirror holds the same bytes, and the sha256 is what pins them), so no absolute
path of this machine ever lands in the committed lock. URL sources are recorded as given.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .._paths import lock_path, project_root
from ._load import SpecLoadError, parse_spec_text
from ._lock import Lock, LockError, read_lock, spec_cache_path, write_lock
from ._walk import iter_operations

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CANONICAL_SOURCE",
    "DEFAULT_CHANNEL",
    "DEFAULT_REF",
    "SOURCE_ENV",
    "CacheCheck",
    "CacheMismatchError",
    "FetchError",
    "FetchedSpec",
    "PinResult",
    "ProgressCallback",
    "RetryPolicy",
    "check_cache",
    "fetch_and_pin",
    "fetch_spec",
    "recorded_source",
    "resolve_source",
    "spec_url",
]

CANONICAL_SOURCE = "https://raw.githubusercontent.com/klaviyo/openapi"
DEFAULT_REF = "2026-07-15"
DEFAULT_CHANNEL = "stable"
SOURCE_ENV = "KDK_SPEC_SOURCE"

_CHUNK = 1 << 16

# Called with (bytes so far, total bytes or None); bytes so far drops back to 0 when a retry starts over.
ProgressCallback = Callable[[int, int | None], None]


class FetchError(Exception):
    """A fetch or check that failed; `str()` is one line meant for the user, `exit_code` for the CLI."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever an underlying library said


class CacheMismatchError(FetchError):
    """The cached spec is not the bytes the lock pins."""

    exit_code = 1


class _TransientError(Exception):
    """Worth another attempt: the same request may well succeed a moment later."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 0.5  # seconds before the first retry; doubles on each further retry
    max_backoff: float = 8.0
    timeout: float = 30.0  # seconds to connect, and seconds without a byte while reading
    # A server dripping one byte per `timeout` would otherwise never be given up on.
    deadline: float = 600.0  # seconds for the whole fetch, retries included
    # Klaviyo's spec is ~3 MB; a body far past that is not a spec (or a decompression bomb).
    max_bytes: int = 64 * 1024 * 1024

    def delay(self, failures: int) -> float:
        return float(min(self.backoff * 2 ** (failures - 1), self.max_backoff))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> RetryPolicy:
        """Defaults, overridden by KDK_FETCH_ATTEMPTS / _BACKOFF / _TIMEOUT / _DEADLINE / _MAX_BYTES (tests make
        them tiny)."""
        env = os.environ if environ is None else environ
        policy = cls()
        try:
            return cls(
                attempts=max(1, int(env.get("KDK_FETCH_ATTEMPTS", policy.attempts))),
                backoff=max(0.0, float(env.get("KDK_FETCH_BACKOFF", policy.backoff))),
                max_backoff=policy.max_backoff,
                timeout=max(0.001, float(env.get("KDK_FETCH_TIMEOUT", policy.timeout))),
                deadline=max(0.001, float(env.get("KDK_FETCH_DEADLINE", policy.deadline))),
                max_bytes=max(1, int(env.get("KDK_FETCH_MAX_BYTES", policy.max_bytes))),
            )
        except ValueError as exc:
            raise FetchError(f"bad KDK_FETCH_* setting: {exc}") from None


@dataclass(frozen=True)
class FetchedSpec:
    """A verified spec, now in the cache."""

    path: Path
    url: str  # where the bytes came from on this machine (a path for a directory source)
    sha256: str
    size: int
    info_version: str
    operations: int


@dataclass(frozen=True)
class PinResult:
    lock: Lock
    previous: Lock | None
    fetched: FetchedSpec

    @property
    def changed(self) -> bool:
        return self.lock != self.previous


@dataclass(frozen=True)
class CacheCheck:
    lock: Lock
    path: Path
    restored: FetchedSpec | None  # set when the cache was missing and has been fetched again


# -- where a spec lives --------------------------------------------------------------------------------


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _source_dir(source: str) -> Path:
    """A directory source; relative paths are taken from the current directory, else from the project root."""
    path = Path(source.removeprefix("file://")).expanduser()
    if not path.is_absolute() and not path.is_dir() and (project_root() / path).is_dir():
        path = project_root() / path
    return path


def resolve_source(explicit: str | None = None, lock: Lock | None = None) -> str:
    """Which source to use: `--source`, else $KDK_SPEC_SOURCE, else the lock's, else GitHub."""
    for candidate in (explicit, os.environ.get(SOURCE_ENV), lock.source if lock else None):
        if candidate:
            return candidate
    return CANONICAL_SOURCE


def _check_name(kind: str, value: str) -> None:
    # Refs are git branch names (may hold '/'), but never a way out of the source directory.
    parts = value.split("/")
    if not value or value.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in value:
        raise FetchError(f"invalid {kind} {value!r}")


def spec_url(source: str, ref: str, channel: str) -> str:
    """The file for `ref`/`channel` under `source`: a URL, or a path for a directory source."""
    _check_name("ref", ref)
    _check_name("channel", channel)
    if _is_url(source):
        return f"{source.rstrip('/')}/{ref}/openapi/{channel}.json"
    return str(_source_dir(source) / ref / "openapi" / f"{channel}.json")


def recorded_source(source: str) -> str:
    """What the lock records as the source: never a path of this machine (see the module docstring)."""
    return source.rstrip("/") if _is_url(source) else CANONICAL_SOURCE


# -- getting the bytes -----------------------------------------------------------------------------------


@dataclass
class _Sink:
    """The temp file being filled, hashed as bytes arrive so the spec is read from disk only once more.

    It also enforces the policy's byte cap and overall deadline, so neither a decompression bomb nor a
    server that drips a byte at a time can fill the disk or hold the command forever."""

    fh: IO[bytes]
    on_progress: ProgressCallback | None
    url: str = ""
    max_bytes: int = RetryPolicy.max_bytes
    seconds: float = RetryPolicy.deadline
    total: int | None = None
    size: int = 0

    def __post_init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.deadline = time.monotonic() + self.seconds

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise FetchError(
                f"gave up on {self.url} after {self.seconds:g} s overall ({self.size} bytes received); "
                "set KDK_FETCH_DEADLINE for a slower network"
            )

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise FetchError(
                f"{self.url} is larger than {self.max_bytes} bytes, far more than a spec: refusing it "
                "(set KDK_FETCH_MAX_BYTES to allow more)"
            )

    def restart(self, total: int | None) -> None:
        self.fh.seek(0)
        self.fh.truncate()
        self.hasher = hashlib.sha256()
        self.size, self.total = 0, total
        if self.on_progress:
            self.on_progress(0, total)

    def write(self, chunk: bytes) -> None:
        self.check_size(self.size + len(chunk))
        self.check_deadline()
        self.fh.write(chunk)
        self.hasher.update(chunk)
        self.size += len(chunk)
        if self.on_progress:
            self.on_progress(self.size, self.total)


def _copy_file(path: Path, sink: _Sink, ref: str, channel: str, source: str) -> None:
    try:
        with path.open("rb") as src:
            sink.restart(os.fstat(src.fileno()).st_size)
            while chunk := src.read(_CHUNK):
                sink.write(chunk)
    except FileNotFoundError:
        root = _source_dir(source)
        if not root.is_dir():
            raise FetchError(f"spec source directory {root} does not exist") from None
        refs = sorted(p.name for p in root.iterdir() if (p / "openapi").is_dir())
        raise FetchError(
            f"no spec at {path}: unknown ref {ref!r} or channel {channel!r} "
            f"(refs in {root}: {', '.join(refs) or 'none'})"
        ) from None
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None


def _get_once(client: httpx.Client, url: str, sink: _Sink, ref: str, channel: str) -> None:
    import httpx

    try:
        with client.stream("GET", url) as response:
            status = response.status_code
            # After a redirect, name where the answer came from (the URL asked for is not what failed).
            served = str(response.url)
            if served != url:
                served = f"{served} (redirected from {url})"
            if status == 404:
                raise FetchError(f"HTTP 404 Not Found for {served}: unknown ref {ref!r} or channel {channel!r}")
            if status >= 500 or status in (408, 429):
                raise _TransientError(f"HTTP {status} {response.reason_phrase} from {served}")
            if status != 200:
                raise FetchError(f"HTTP {status} {response.reason_phrase} for {served}")
            length = response.headers.get("content-length", "")
            if length.isdigit():
                sink.check_size(int(length))
            sink.restart(int(length) if length.isdigit() else None)
            try:
                for chunk in response.iter_bytes():  # as they arrive: a slow drip meets the deadline check
                    sink.write(chunk)
            except httpx.RemoteProtocolError:
                # h11 enforces Content-Length: a connection closed early surfaces here.
                raise _TransientError(
                    f"truncated body from {url}: got {response.num_bytes_downloaded} of {length or '?'} bytes"
                ) from None
            # Content-Length counts bytes on the wire (before any gzip decoding), so compare those.
            if length.isdigit() and response.num_bytes_downloaded != int(length):
                raise _TransientError(
                    f"truncated body from {url}: got {response.num_bytes_downloaded} of {length} bytes"
                )
    except httpx.TimeoutException as exc:
        raise _TransientError(f"timed out after {client.timeout.read} s waiting for {_target(exc, url)}") from None
    except httpx.ConnectError as exc:
        host = httpx.URL(_target(exc, url)).netloc.decode()
        raise _TransientError(f"cannot connect to {host}: {_reason(exc)}") from None
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from None
    except httpx.TransportError as exc:
        raise _TransientError(f"network error fetching {url}: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot fetch {url}: {_reason(exc)}") from None


def _target(exc: Exception, url: str) -> str:
    """The URL a transport error happened on: after a redirect, that is not the one asked for."""
    try:
        request = exc.request  # type: ignore[attr-defined]
    except RuntimeError:  # httpx raises when the error carries no request
        return url
    return str(request.url) if request is not None else url


def _reason(exc: BaseException) -> str:
    # httpx wraps OSError text like "[Errno 111] Connection refused": keep the readable part.
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[1].lower() if text.startswith("[Errno") and "] " in text else text


def _download(url: str, sink: _Sink, policy: RetryPolicy, ref: str, channel: str) -> None:
    import httpx

    headers = {"User-Agent": "klaviyo-devkit (kdk spec fetch)"}
    with httpx.Client(timeout=policy.timeout, follow_redirects=True, headers=headers) as client:
        for attempt in range(1, policy.attempts + 1):
            try:
                _get_once(client, url, sink, ref, channel)
                return
            except _TransientError as exc:
                if attempt == policy.attempts:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise FetchError(f"{exc}{tries}") from None
                if time.monotonic() + policy.delay(attempt) > sink.deadline:
                    raise FetchError(f"{exc} (no time left for another attempt within {policy.deadline:g} s)") from None
                time.sleep(policy.delay(attempt))
    # Unreachable: the loop returns or raises (`attempts` is at least 1).
    raise FetchError(f"no attempt made to fetch {url}")


# -- verifying and caching -------------------------------------------------------------------------------


def _verify(tmp: Path, url: str, sha256: str, size: int, expected_sha256: str | None) -> tuple[str, int]:
    """Check the downloaded bytes; returns (info.version, operation count)."""
    if expected_sha256 and sha256 != expected_sha256.lower():
        raise FetchError(
            f"sha256 mismatch for {url}: expected {expected_sha256[:12]}…, got {sha256[:12]}… ({size} bytes); "
            "the pinned bytes are not what the source serves (re-pin with `kdk spec fetch --ref …` if intended)"
        )
    try:
        text = tmp.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FetchError(f"{url} is not a spec: not UTF-8 at byte {exc.start}") from None
    try:
        spec = parse_spec_text(text, url)
    except SpecLoadError as exc:
        raise FetchError(f"{url} is not a spec: {exc.reason} at line {exc.line}, column {exc.column}") from None
    info = spec.get("info")
    version = info.get("version") if isinstance(info, dict) else None
    if "openapi" not in spec or not isinstance(version, str):
        raise FetchError(f"{url} is JSON but not an OpenAPI document (no `openapi` or `info.version`)")
    return version, sum(1 for _ in iter_operations(spec))


def fetch_spec(
    source: str,
    ref: str,
    channel: str,
    *,
    expected_sha256: str | None = None,
    policy: RetryPolicy | None = None,
    on_progress: ProgressCallback | None = None,
) -> FetchedSpec:
    """Fetch `<source>/<ref>/openapi/<channel>.json` into the cache, verified; the lock is not touched."""
    policy = policy or RetryPolicy.from_env()
    url = spec_url(source, ref, channel)
    specs_dir = spec_cache_path("x").parent
    try:
        specs_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(specs_dir)
        fd, tmp_name = tempfile.mkstemp(dir=specs_dir, prefix=".fetch-", suffix=".part")
    except OSError as exc:
        raise FetchError(f"cannot write to the spec cache {specs_dir}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            sink = _Sink(fh, on_progress, url, policy.max_bytes, policy.deadline)
            if _is_url(source):
                _download(url, sink, policy, ref, channel)
            else:
                _copy_file(Path(url), sink, ref, channel, source)
        sha256 = sink.hasher.hexdigest()
        version, operations = _verify(tmp, url, sha256, sink.size, expected_sha256)
        final = spec_cache_path(sha256)
        tmp.chmod(0o644)  # mkstemp makes it private; the cache is as readable as the checkout
        tmp.replace(final)  # same bytes as any file already there (named by their hash)
        return FetchedSpec(final, url, sha256, sink.size, version, operations)
    except OSError as exc:
        raise FetchError(f"cannot write to the spec cache {specs_dir}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


_STALE_PART_SECONDS = 3600.0


def _remove_stale_parts(specs_dir: Path) -> None:
    """Temp files a killed fetch (kill -9, power loss) could not remove; a live fetch's file is younger."""
    cutoff = time.time() - _STALE_PART_SECONDS
    for part in specs_dir.glob(".fetch-*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
        except OSError:
            pass  # another process removed it first, or it is not ours to remove


def current_lock() -> Lock | None:
    """The project's lock, or None where there is none yet (any other lock problem is a FetchError)."""
    try:
        return read_lock()
    except LockError as exc:
        if "no lock file" in str(exc):
            return None
        raise FetchError(str(exc)) from None


def fetch_and_pin(
    ref: str | None = None,
    channel: str | None = None,
    source: str | None = None,
    *,
    expected_sha256: str | None = None,
    policy: RetryPolicy | None = None,
    on_progress: ProgressCallback | None = None,
) -> PinResult:
    """Fetch a revision and pin it in the lock. Ref/channel default to the lock's, else 2026-07-15/stable."""
    previous = current_lock()
    ref = ref or (previous.ref if previous else DEFAULT_REF)
    channel = channel or (previous.channel if previous else DEFAULT_CHANNEL)
    source = resolve_source(source, previous)
    fetched = fetch_spec(source, ref, channel, expected_sha256=expected_sha256, policy=policy, on_progress=on_progress)
    recorded = recorded_source(source)
    lock = Lock(
        ref=ref,
        channel=channel,
        source=recorded,
        url=spec_url(recorded, ref, channel),
        sha256=fetched.sha256,
        size=fetched.size,
        info_version=fetched.info_version,
        operations=fetched.operations,
    )
    if lock != previous:
        try:
            write_lock(lock)
        except OSError as exc:
            raise FetchError(f"cannot write the lock file: {exc.strerror or exc}") from None
    return PinResult(lock, previous, fetched)


def _sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def check_cache(
    source: str | None = None,
    *,
    policy: RetryPolicy | None = None,
    on_progress: ProgressCallback | None = None,
) -> CacheCheck:
    """Verify the cached spec against the lock (one hash, no parse); fetch it from the lock's ref if missing.

    Raises `CacheMismatchError` (exit 1) when the cached bytes differ from the lock, `FetchError` otherwise.
    """
    lock = current_lock()
    if lock is None:
        raise FetchError(f"no lock file at {lock_path()}: run `kdk spec fetch --ref <revision>` first")
    path = spec_cache_path(lock.sha256)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        restored = fetch_spec(
            resolve_source(source, lock),
            lock.ref,
            lock.channel,
            expected_sha256=lock.sha256,
            policy=policy,
            on_progress=on_progress,
        )
        return CacheCheck(lock, restored.path, restored)
    hint = f"delete {_shown(path)} and run `kdk spec fetch --check` to fetch it again"
    if size != lock.size:
        raise CacheMismatchError(f"cached spec does not match the lock: {size} bytes, lock says {lock.size}; {hint}")
    actual = _sha256_of(path)
    if actual != lock.sha256:
        raise CacheMismatchError(
            f"cached spec does not match the lock: sha256 {actual[:12]}…, lock says {lock.sha256[:12]}…; {hint}"
        )
    return CacheCheck(lock, path, None)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(project_root()))
    except ValueError:
        return str(path)
