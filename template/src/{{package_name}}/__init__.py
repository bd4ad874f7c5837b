"""The service: app factory, models, HTTP API and background workers."""
