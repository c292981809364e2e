"""Honest local HTTP fakes for tests, speaking the real wire formats.

* :class:`LocalServer` / :class:`HTTPFake` -- run a WSGI app on ``127.0.0.1:<ephemeral>``.
* :class:`FakeTwilioAPI` -- Twilio's 2010 Messages API, validated against Twilio's OpenAPI
  description, with programmable failures and signed status callbacks.
* :class:`FakeShipper` -- receiver of Doorstep's Standard Webhooks callbacks.
"""

from .http import HTTPFake, LocalServer
from .shipper import FakeShipper, generate_secret
from .twilio_api import FakeTwilioAPI

__all__ = ["FakeShipper", "FakeTwilioAPI", "HTTPFake", "LocalServer", "generate_secret"]
