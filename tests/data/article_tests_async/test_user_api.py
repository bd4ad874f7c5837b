# tests/integration/test_user_api.py
from my_service.models import User


class TestUserAPI:
    """Integration tests for the user management API."""

    async def test_create_and_retrieve_user(self, client, db_session):
        """Full lifecycle: create user, verify storage, retrieve via API."""
        response = await client.post(
            "/api/users", json={"name": "Alice Johnson", "email": "alice@example.com"}
        )
        assert response.status_code == 201
        user_id = response.json()["id"]

        # Verify in database (not just API response)
        db_user = await db_session.get(User, user_id)
        assert db_user is not None
        assert db_user.email == "alice@example.com"

        response = await client.get(f"/api/users/{user_id}")
        assert response.status_code == 200
        assert response.json()["name"] == "Alice Johnson"

    async def test_duplicate_email_rejected(self, client):
        """Database constraint prevents duplicate emails."""
        payload = {"name": "Alice", "email": "dupe@example.com"}
        await client.post("/api/users", json=payload)

        response = await client.post("/api/users", json=payload)
        assert response.status_code == 409
        assert "already exists" in response.json()["detail"]

    async def test_authentication_required(self, client):
        """Protected endpoints reject unauthenticated requests."""
        response = await client.get("/api/users/me")
        assert response.status_code == 401

    async def test_pagination_with_real_data(self, client, make_user):
        """Pagination works correctly with actual database records."""
        for i in range(25):
            await make_user(name=f"User {i}")

        page1 = await client.get("/api/users?page=1&per_page=10")
        assert len(page1.json()["items"]) == 10
        assert page1.json()["total"] == 25

        page3 = await client.get("/api/users?page=3&per_page=10")
        assert len(page3.json()["items"]) == 5
