"""The baseline for ``python -m bench load``: the least an SMS webhook can do.

A Flask app that checks ``X-Twilio-Signature`` with twilio's ``RequestValidator`` against
``PUBLIC_URL`` + path (as Doorstep does) and answers an empty TwiML ``<Response/>``: no
Redis, no NLU, no dialogue. Served by gunicorn with the same workers and worker class as
Doorstep, its requests/s and latency are the ceiling that this Python stack on this
machine allows; Doorstep's figures are printed as ratios to them.

Reads ``TWILIO_AUTH_TOKEN`` and ``PUBLIC_URL`` from the environment (the bench gives it
the same values as Doorstep, so the same pre-signed requests are valid for both).
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

SMS_PATH = "/webhooks/twilio/sms"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def create_app() -> Flask:
    """The baseline app: ``POST /webhooks/twilio/sms`` and ``GET /readyz``."""
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    public_url = os.environ["PUBLIC_URL"].rstrip("/")

    @app.post(SMS_PATH)
    def twilio_sms() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(public_url + request.path, request.form, signature):
            return Response("invalid or missing X-Twilio-Signature", status=403)
        return Response(EMPTY_TWIML, status=200, content_type="text/xml")

    @app.get("/readyz")
    def readyz() -> Response:
        return Response('{"status": "ready"}', content_type="application/json")

    return app
