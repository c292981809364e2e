"""What supervisors set up for agents: canned responses and resolution codes."""

from __future__ import annotations

import redis


class Playbook:
    """Canned responses and resolution codes in Redis; codes start from the settings'
    ``RESOLUTION_CODES`` until a supervisor changes them."""

    def __init__(self, client: redis.Redis, default_codes: tuple[tuple[str, str], ...]) -> None:
        self.redis = client
        self.default_codes = default_codes

    def resolution_codes(self) -> list[dict[str, str]]:
        """``[{"code", "label"}]`` in the order supervisors set."""
        raise NotImplementedError

    def add_resolution_code(self, code: str, label: str) -> dict[str, str]:
        raise NotImplementedError

    def remove_resolution_code(self, code: str) -> None:
        raise NotImplementedError

    def is_resolution_code(self, code: str) -> bool:
        raise NotImplementedError

    def canned_responses(self) -> list[dict[str, str]]:
        """``[{"id", "title", "text"}]``."""
        raise NotImplementedError

    def add_canned_response(self, title: str, text: str) -> dict[str, str]:
        raise NotImplementedError

    def remove_canned_response(self, response_id: str) -> None:
        raise NotImplementedError
