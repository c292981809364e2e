"""Dialogue flows: pure state machines that return replies and effects as data."""
