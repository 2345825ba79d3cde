"""Request and response bodies of the page's Finish with region exports (issue 12)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from clinlabel.web.schemas import OutputsOut


class ExportFormatOut(BaseModel):
    """A region export the page's Finish offers, and the folder it would be written to."""

    name: str
    title: str
    description: str
    folder: str


class FinishIn(BaseModel):
    """The region formats ticked in the finish bar; none: the labels CSV and report only."""

    formats: list[str] = Field(default_factory=list, max_length=20)


class RegionExportOut(BaseModel):
    """One region export Finish wrote: where, how many files and regions, what was left out."""

    name: str
    title: str
    folder: str
    files: int
    regions: int
    left_out: int


class FinishOut(OutputsOut):
    region_exports: list[RegionExportOut] = Field(default_factory=list)
