import httpx


def test_user_signs_up_and_reads_their_profile(http: httpx.Client) -> None:
    created = http.post("/api/users", json={"name": "Frank", "email": "frank@example.com"})
    assert created.status_code == 201
    user = created.json()

    assert http.get(f"/api/users/{user['id']}").json()["name"] == "Frank"
    me = http.get("/api/users/me", headers={"Authorization": f"Bearer {user['api_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "frank@example.com"


def test_profile_needs_a_token(http: httpx.Client) -> None:
    assert http.get("/api/users/me").status_code == 401


def test_listing_sees_users_created_over_http(http: httpx.Client) -> None:
    for number in range(3):
        payload = {"name": f"Grace {number}", "email": f"grace{number}@example.com"}
        assert http.post("/api/users", json=payload).status_code == 201
    page = http.get("/api/users", params={"page": 1, "per_page": 2}).json()
    assert page["total"] == 3
    assert len(page["items"]) == 2
