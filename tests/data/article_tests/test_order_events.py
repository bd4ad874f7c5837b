# tests/integration/test_order_events.py
import pytest
import json
import time

@pytest.fixture
def event_bus(redis_url):
    """In-memory event bus backed by Redis for testing."""
    from my_service.events import RedisPubSub
    bus = RedisPubSub(redis_url)
    yield bus
    bus.close()

class TestOrderEventFlow:
    
    def test_order_creation_publishes_event(self, client, event_bus):
        """Creating an order publishes an OrderCreated event."""
        received_events = []
        event_bus.subscribe("order.created", received_events.append)
        
        client.post("/api/orders", json={
            "items": [{"sku": "WIDGET-1", "quantity": 2}],
        })
        
        # Allow async processing
        time.sleep(0.5)
        
        assert len(received_events) == 1
        event = json.loads(received_events[0])
        assert event["type"] == "order.created"
        assert event["data"]["items"][0]["sku"] == "WIDGET-1"
    
    def test_inventory_updates_on_order(self, client, db_session, event_bus):
        """Inventory service processes OrderCreated events."""
        # Set initial stock
        from my_service.models import Inventory
        db_session.add(Inventory(sku="WIDGET-1", stock=10))
        db_session.commit()
        
        # Create order (triggers event → inventory handler)
        client.post("/api/orders", json={
            "items": [{"sku": "WIDGET-1", "quantity": 3}],
        })
        
        time.sleep(1.0)  # Wait for async processing
        
        inventory = db_session.query(Inventory).filter_by(sku="WIDGET-1").first()
        assert inventory.stock == 7
