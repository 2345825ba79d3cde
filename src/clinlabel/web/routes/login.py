"""Logging in and out of the team server (`clinlabel serve`), and who is logged in."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from clinlabel.errors import AccessError, LoginBusyError, NotFoundError
from clinlabel.web.auth import COOKIE, cookie_value, current_user, team_of
from clinlabel.web.routes.pages import STATIC

router = APIRouter(tags=["login"])

Text = Annotated[str, StringConstraints(max_length=1024)]
BUSY_TRIES = 400
"""How often a login waits for another one being checked (each a moment: 20 s at most)."""


class LoginIn(BaseModel):
    name: Text = Field(min_length=1, max_length=200)
    password: Text = Field(min_length=1)


class MeOut(BaseModel):
    name: str
    role: str
    idle_minutes: float


@router.get("/login", include_in_schema=False)
def login_page(request: Request) -> FileResponse:
    if team_of(request) is None:
        raise NotFoundError("This server has no logins (it is `clinlabel label`).")
    return FileResponse(STATIC / "login.html", headers={"Cache-Control": "no-cache"})


@router.post("/api/auth/login")
async def login(body: LoginIn, request: Request) -> JSONResponse:
    team = team_of(request)
    if team is None:
        raise NotFoundError("This server has no logins (it is `clinlabel label`).")
    address = team.address(request)
    # On a reader thread, not the writer: an argon2 check takes tens of milliseconds of CPU, and
    # labels being saved must not queue behind logins (its few writes are their own
    # transactions, which the database serialises).
    for _ in range(BUSY_TRIES):
        try:
            done = await team.base.read(
                team.accounts.login, body.name, body.password, address=address
            )
            break
        except LoginBusyError as busy:
            # Another login from the same address (colleagues behind one router) or for the
            # same account is being checked: this one follows it, without holding a thread.
            await asyncio.sleep(busy.retry_after_s)
    else:
        raise LoginBusyError(
            "Many logins from here are being checked: try again in a few seconds.",
            retry_after_s=2.0,
        )
    await team.end_earlier_login(request, done.user)
    answer = JSONResponse(
        MeOut(
            name=done.user.name, role=done.user.role.value, idle_minutes=team.idle_s / 60
        ).model_dump()
    )
    answer.set_cookie(
        COOKIE,
        cookie_value(team.secret, done.session_id),
        httponly=True,
        samesite="strict",
        # Behind TLS: said by `serve --secure-cookies`, or by the trusted proxy's
        # X-Forwarded-Proto (uvicorn sets the scheme from it only for `--trusted-proxy`).
        secure=team.secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return answer


@router.post("/api/auth/logout", status_code=204)
async def logout(request: Request) -> Response:
    team = team_of(request)
    if team is not None:
        await team.logout(request)
    answer = Response(status_code=204)
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer


@router.get("/api/auth/me", response_model=None)
async def me(request: Request) -> MeOut | Response:
    """Who is logged in; 204 on the local server (`clinlabel label`), which has no logins."""
    user = current_user(request)
    team = team_of(request)
    if team is None:
        return Response(status_code=204)
    if user is None:
        raise AccessError("Not logged in.")
    return MeOut(name=user.name, role=user.role.value, idle_minutes=team.idle_s / 60)
