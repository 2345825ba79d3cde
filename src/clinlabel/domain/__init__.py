"""The nouns of clinlabel as frozen dataclasses; no I/O, no framework."""

from clinlabel.domain.images import ImageKind, ImageRef, Problem, ScanResult, SkippedFolder
from clinlabel.domain.labels import DEFAULT_SCHEMA, Label, LabelDef, LabelSchema

__all__ = [
    "DEFAULT_SCHEMA",
    "ImageKind",
    "ImageRef",
    "Label",
    "LabelDef",
    "LabelSchema",
    "Problem",
    "ScanResult",
    "SkippedFolder",
]
