"""Request and response bodies of the regions API (issue 11)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from clinlabel.domain.labels import MAX_FRAME
from clinlabel.domain.regions import Region, RegionClass
from clinlabel.web.schemas import MAX_INT64, RegionClassOut, Text


class RegionIn(BaseModel):
    """The whole new state of one region; `geometry` is checked by the core, per tool."""

    image_id: int = Field(ge=1, le=MAX_INT64)
    region_class: Text = Field(alias="class", min_length=1, max_length=200)
    tool: Literal["box", "polygon", "brush", "point", "assist:frangi", "interpolated"]
    geometry: dict[str, Any]
    comment: Text | None = Field(default=None, max_length=10_000)
    frame: int = Field(default=0, ge=0, le=MAX_FRAME)
    plane: Literal["axial", "coronal", "sagittal"] | None = None
    #: The page is undoing or redoing: recorded in the event, so the trail tells them apart.
    undo: bool = False
    #: An assisted mask's filter parameters and threshold (recorded in its event).
    assist: dict[str, Any] | None = None


class RegionOut(BaseModel):
    uid: str
    image_id: int
    annotator: str
    frame: int
    plane: str | None
    region_class: str = Field(serialization_alias="class")
    tool: str
    geometry: dict[str, Any]
    sha256: str
    comment: str
    updated_at: str

    @classmethod
    def of(cls, region: Region) -> RegionOut:
        data = region.to_dict()
        return cls(
            uid=region.uid,
            image_id=region.image_id,
            annotator=region.annotator,
            frame=region.frame,
            plane=region.plane,
            region_class=region.region_class,
            tool=region.tool,
            geometry=data["geometry"],
            sha256=region.sha256,
            comment=region.comment,
            updated_at=region.updated_at,
        )


def class_out(region_class: RegionClass) -> RegionClassOut:
    tools = list(region_class.tools)
    return RegionClassOut(name=region_class.name, colour=region_class.colour, tools=tools)


class CrossingOut(BaseModel):
    """A line where a region of another plane crosses slice `frame` of the plane shown: down the
    rows at column `at` (`along` = "rows") or across the columns at row `at`; `runs` are the
    [start, end) pixels covered."""

    frame: int
    along: str
    at: int
    runs: list[tuple[int, int]]


class GridOut(BaseModel):
    """The pixel grid regions are drawn on (a volume: one plane's slices) and how many frames."""

    width: int
    height: int
    frames: int
    plane: str | None


class RegionsOut(BaseModel):
    """An image's regions (this annotator's), the classes the schema lets them draw, the grid."""

    classes: list[RegionClassOut]
    regions: list[RegionOut]
    crossings: dict[str, list[CrossingOut]] = Field(default_factory=dict)
    """Volumes: regions drawn on the other planes, by uid, where they cross this plane's slices."""
    grid: GridOut | None
    """None for an image the viewer cannot decode (nothing can be drawn on it)."""


class RegionDeletedOut(BaseModel):
    """The region as it was before the delete (for undo), or null if it was already gone."""

    deleted: RegionOut | None


class InterpolateIn(BaseModel):
    """Two masks of one class on two slices of a volume: fill the slices between them."""

    first: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    last: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
