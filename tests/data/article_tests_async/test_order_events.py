# tests/integration/test_order_events.py
import json

import pytest
from service_harness import AsyncInbox
from sqlalchemy import select

from my_service.events import RedisPubSub
from my_service.models import Inventory


@pytest.fixture
async def event_bus(redis_url):
    """Event bus backed by Redis for testing."""
    bus = RedisPubSub(redis_url)
    yield bus
    await bus.close()


class TestOrderEventFlow:
    async def test_order_creation_publishes_event(self, client, event_bus):
        """Creating an order publishes an OrderCreated event."""
        received_events = AsyncInbox()
        await event_bus.subscribe("order.created", received_events)

        await client.post("/api/orders", json={"items": [{"sku": "WIDGET-1", "quantity": 2}]})

        (message,) = await received_events.wait_for(1)
        event = json.loads(message)
        assert event["type"] == "order.created"
        assert event["data"]["items"][0]["sku"] == "WIDGET-1"

    async def test_inventory_updates_on_order(self, client, db_session, event_bus):
        """Inventory service processes OrderCreated events."""
        db_session.add(Inventory(sku="WIDGET-1", stock=10))
        await db_session.commit()
        adjusted = AsyncInbox()
        await event_bus.subscribe("inventory.adjusted", adjusted)

        # Create order (triggers event → inventory handler)
        await client.post("/api/orders", json={"items": [{"sku": "WIDGET-1", "quantity": 3}]})

        await adjusted.wait_for(1)
        # The worker wrote on its own connection: read the row again, not the cached object.
        statement = select(Inventory).filter_by(sku="WIDGET-1")
        inventory = (
            await db_session.scalars(statement.execution_options(populate_existing=True))
        ).first()
        assert inventory.stock == 7
