"""Synthetic API tests, as most of an integration tier looks: HTTP in, rows out, rolled back."""

import pytest


@pytest.mark.parametrize("n", range({count}))
def test_api(n, client, make_user):
    make_user()
    created = client.post("/api/users", json={{"name": "U", "email": f"api-{{n}}@example.com"}})
    assert created.status_code == 201
    assert client.get("/api/users?per_page=5").json()["total"] == 2
