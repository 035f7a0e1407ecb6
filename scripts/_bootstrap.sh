# Sourced by scripts/test, scripts/mock and scripts/check: a locked environment and the pinned spec, on any machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --locked --quiet
# Offline and CI: use the spec mirror beside the checkout unless the caller chose a source.
if [ -z "${KDK_SPEC_SOURCE:-}" ] && [ -d ../shared/klaviyo-openapi ]; then
  export KDK_SPEC_SOURCE="$(cd ../shared/klaviyo-openapi && pwd)"
fi
