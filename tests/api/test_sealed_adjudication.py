"""Adjudication and the dashboard show each reader's reads (side by side; NA counts and
agreement with the consensus): a reader whose first reads are sealed is refused them as the
agreement figures and their exports are. The local server admits its one annotator to every
role, so without this alice read her own sealed label in the adjudication queue."""

from __future__ import annotations

from pathlib import Path

from .test_sealed_agreement import FIRST, local_reader_with_sealed_reads, read_all


def test_sealed_adjudication_and_dashboard_refuse_the_local_reader_until_the_repeats(
    tmp_path: Path, batch: Path
) -> None:
    with local_reader_with_sealed_reads(tmp_path, batch) as (client, sealed):
        for url, what in (
            ("/api/adjudication", "adjudication"),
            ("/api/adjudication?scope=all", "adjudication"),
            ("/api/dashboard", "the dashboard"),
        ):
            refused = client.get(url)
            assert refused.status_code == 409, refused.text
            message = refused.json()["message"]
            assert f"{what} would show you {sealed} first read(s) of yours" in message, url
            assert "Read the repeats in your worklist first" in message
            assert FIRST not in refused.text and "alice" not in refused.text
        image_id = client.get("/api/study/worklist").json()["items"][0]["image_id"]
        given = client.put(
            f"/api/adjudication/{image_id}", json={"label": "NA", "reason": "a look"}
        )
        assert given.status_code == 409 and FIRST not in given.text

        read_all(client, "NA", repeats=True)
        shown = client.get("/api/adjudication?scope=all")
        assert shown.status_code == 200, shown.text
        reads = shown.json()["items"][0]["reads"]
        assert {r["reader"]: r["label"] for r in reads} == {
            "alice": FIRST,
            "Dr B": "Non-Suspicious",
        }
        assert client.get("/api/dashboard").status_code == 200
        assert client.put(
            f"/api/adjudication/{image_id}", json={"label": "NA", "reason": "a look"}
        ).is_success
