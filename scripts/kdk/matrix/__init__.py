"""`kdk spec matrix`: the whole pipeline over many spec revisions, one table row per revision.

fetch -> validate -> generate (-> mypy) -> mock start -> contract, each stage the project's own library function
(`_runner`), over the revisions a mirror holds or the refs asked for (`_select`), rendered as text, Markdown or
JSON (`_render`). A revision's failure is a row with the error, never a crash of the run.
"""

from ._model import (
    STAGES,
    ContractStage,
    GenerateStage,
    MatrixOptions,
    MatrixRow,
    MockStage,
    Problem,
    Revision,
    ValidateStage,
)
from ._render import BEGIN_MARKER, END_MARKER, FORMATS, HEADERS, render, splice, table_cells
from ._runner import run_matrix, run_revision
from ._select import ci_sample, order_key, select_revisions

__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "FORMATS",
    "HEADERS",
    "STAGES",
    "ContractStage",
    "GenerateStage",
    "MatrixOptions",
    "MatrixRow",
    "MockStage",
    "Problem",
    "Revision",
    "ValidateStage",
    "ci_sample",
    "order_key",
    "render",
    "run_matrix",
    "run_revision",
    "select_revisions",
    "splice",
    "table_cells",
]
