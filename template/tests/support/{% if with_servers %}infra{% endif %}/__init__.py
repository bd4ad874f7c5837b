"""Servers for the test run: from a URL, from Docker, or embedded (see resolve.py)."""
