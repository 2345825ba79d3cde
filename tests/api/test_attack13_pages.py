"""Every page of the team server sends someone not logged in to the login page."""

from __future__ import annotations

from pathlib import Path

import pytest

from .team_server import clients, make_team_project, team_server


@pytest.mark.parametrize("page", ["/", "/admin", "/adjudicate", "/dashboard"])
def test_attack13_a_page_asked_for_without_a_login_goes_to_the_login_page(
    tmp_path: Path, page: str
) -> None:
    with team_server(make_team_project(tmp_path)) as team, clients(team) as users:
        answer = users["anon"].get(page, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
        # Logged in as an annotator, the reviewer's pages are still refused.
        if page in ("/adjudicate", "/dashboard"):
            assert users["ann"].get(page).status_code == 403
            assert users["rev"].get(page).status_code == 200
