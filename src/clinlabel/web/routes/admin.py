"""The admin page's calls (users: add, disable, enable, new password, role) and the reviewer's
view of every reader's labels of an image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, StringConstraints

from clinlabel.errors import AccessError
from clinlabel.labelling.accounts import Role, User
from clinlabel.web.auth import current_user, team_of
from clinlabel.web.routes.pages import STATIC

if TYPE_CHECKING:
    from clinlabel.web.auth_team import TeamServer

router = APIRouter(tags=["admin"])

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserOut(BaseModel):
    name: str
    role: Role
    disabled: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(name=user.name, role=user.role, disabled=user.disabled)


class NewUserIn(BaseModel):
    name: Name
    role: Role
    password: Password


class UserIn(BaseModel):
    name: Name


class PasswordIn(BaseModel):
    name: Name
    password: Password


class RoleIn(BaseModel):
    name: Name
    role: Role


class ReaderLabelOut(BaseModel):
    reader: str
    frame: int
    label: str
    comment: str
    labelled_at: str


def _admin(request: Request) -> tuple[str, TeamServer]:
    """The logged-in user's name (the role was checked by `authorize`) and the team server."""
    user = current_user(request)
    team = team_of(request)
    if user is None or team is None:
        raise AccessError("Not logged in.")
    return user.name, team


@router.get("/admin", include_in_schema=False)
def admin_page() -> FileResponse:
    return FileResponse(STATIC / "admin.html", headers={"Cache-Control": "no-cache"})


@router.get("/api/admin/users")
async def users(request: Request) -> list[UserOut]:
    _, team = _admin(request)
    return [UserOut.of(u) for u in await team.base.read(team.accounts.list)]


@router.post("/api/admin/users")
async def add_user(body: NewUserIn, request: Request) -> UserOut:
    actor, team = _admin(request)
    accounts = team.accounts
    return UserOut.of(
        await team.base.call(accounts.add, body.name, body.role, body.password, actor=actor)
    )


@router.post("/api/admin/users/disable")
async def disable_user(body: UserIn, request: Request) -> UserOut:
    actor, team = _admin(request)
    return UserOut.of(await team.base.call(team.accounts.disable, body.name, actor=actor))


@router.post("/api/admin/users/enable")
async def enable_user(body: UserIn, request: Request) -> UserOut:
    actor, team = _admin(request)
    return UserOut.of(await team.base.call(team.accounts.enable, body.name, actor=actor))


@router.post("/api/admin/users/password")
async def reset_password(body: PasswordIn, request: Request) -> UserOut:
    actor, team = _admin(request)
    accounts = team.accounts
    return UserOut.of(
        await team.base.call(accounts.reset_password, body.name, body.password, actor=actor)
    )


@router.post("/api/admin/users/role")
async def change_role(body: RoleIn, request: Request) -> UserOut:
    actor, team = _admin(request)
    accounts = team.accounts
    return UserOut.of(await team.base.call(accounts.set_role, body.name, body.role, actor=actor))


@router.get("/api/team/images/{image_id}/readers")
async def readers(image_id: int, request: Request) -> list[ReaderLabelOut]:
    """Every reader's labels of one image (reviewers and admins: `ROUTE_RULES`)."""
    _, team = _admin(request)
    from clinlabel.labelling.accounts import readers_labels

    found = await team.base.read(readers_labels, team.project, image_id)
    return [ReaderLabelOut.model_validate(row) for row in found]
