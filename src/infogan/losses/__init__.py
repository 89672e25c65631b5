"""Losses as pure functions of network outputs."""
