"""Helpers shared by several test modules (generated media, clients)."""
