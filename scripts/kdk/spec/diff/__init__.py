"""`kdk spec diff`: breaking-change report between two patched, resolved spec revisions.

model (`_model`), rules (`_rules`), reference resolution (`_resolve`), schema comparison (`_schema`),
operation comparison (`_operations`), where specs come from (`_source`), output (`_render`), the human
changelog (`_changelog`) and release order of revisions (`_revisions`).
"""

from ._changelog import render_changelog, resource_of
from ._model import Change, DiffReport, Rule, Severity
from ._operations import diff_specs
from ._render import FORMATS, markdown_changes, render
from ._revisions import CHANNELS, consecutive_pairs, revision_order
from ._rules import RULES
from ._signatures import Signature, SignatureChange, signature_changes, signatures
from ._source import SourceError, SpecSide, default_channel, load_side, locate_ref, spec_source

__all__ = [
    "CHANNELS",
    "FORMATS",
    "RULES",
    "Change",
    "DiffReport",
    "Rule",
    "Severity",
    "Signature",
    "SignatureChange",
    "SourceError",
    "SpecSide",
    "consecutive_pairs",
    "default_channel",
    "diff_specs",
    "load_side",
    "locate_ref",
    "markdown_changes",
    "render",
    "render_changelog",
    "resource_of",
    "revision_order",
    "signature_changes",
    "signatures",
    "spec_source",
]
