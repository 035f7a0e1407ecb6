"""klaviyo-devkit: the spec pipeline (fetch, lock, validate, overlay, diff) and the `kdk` command.

The top-level package also answers "where does the project keep things" (`kdk._paths`) for the packages
outside `kdk` (mock_server, contract_tests): the checkout, the lock, the caches, the spec mirror.
"""

from ._paths import (
    cache_dir,
    generated_dir,
    lock_path,
    mirror_revisions,
    openapi_dir,
    project_root,
    shared_mirror,
)

__all__ = [
    "__version__",
    "cache_dir",
    "generated_dir",
    "lock_path",
    "mirror_revisions",
    "openapi_dir",
    "project_root",
    "shared_mirror",
]

__version__ = "0.1.0"
