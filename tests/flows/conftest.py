"""Fixtures for the flow tests."""

from __future__ import annotations

import pytest
from address_dialogue import RENDERED, RecordingFlow, fits_two_segments


@pytest.fixture
def flow():
    """The flow under test; after each test, every reply it gave must fit two SMS."""
    RENDERED.clear()
    yield RecordingFlow()
    too_long = [r.text for r in RENDERED if not fits_two_segments(r)]
    assert not too_long, too_long
