"""Fuzz: schemathesis against the served /api/openapi.json, on the real app over real HTTP.

Every generated request is signed or authenticated the way its real sender would do it
(Standard Webhooks for /events, X-Twilio-Signature, Telegram's secret header, a
supervisor's Bearer token for /api/), so the cases get past authentication and reach the
parsers. Checks: no 5xx, and every answer's status, content type, headers and body as the
document says. The default run is short; ``pytest -m long -s tests/test_fuzz_openapi.py``
runs at least 1 000 cases.
"""

from __future__ import annotations

import itertools
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from console_support import escalate
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from support import TELEGRAM_SECRET, System

SHORT_RUN, LONG_RUN = 300, 1000
SKIPPED = {"GET /api/stream"}  # an endless event stream: nothing to fuzz, it never ends
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


class SigningSession(requests.Session):
    """Sign or authenticate each request as its real sender would, just before it is sent."""

    def __init__(self, system: System, token: str) -> None:
        super().__init__()
        self.trust_env = False
        self.settings = system.settings
        self.events = Webhook(system.settings.events_webhook_secret)
        self.twilio = RequestValidator(system.settings.twilio_auth_token)
        self.token = token

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        if url.path == "/events":
            self._sign_event(request, body)
        elif url.path.startswith("/webhooks/twilio/"):
            signed = self.settings.public_url + url.path + (f"?{url.query}" if url.query else "")
            request.headers["X-Twilio-Signature"] = self.twilio.compute_signature(
                signed, _form_as_the_server_reads_it(body, request.headers))
        elif url.path == "/webhooks/telegram":
            request.headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
        elif url.path.startswith("/api/"):
            request.headers["Authorization"] = f"Bearer {self.token}"
        return super().send(request, **kwargs)

    def _sign_event(self, request: requests.PreparedRequest, body: bytes) -> None:
        msg_id = request.headers.get("webhook-id") or ""
        if not (msg_id.isascii() and msg_id.isprintable() and msg_id.strip() == msg_id
                and msg_id):
            msg_id = "msg_" + uuid.uuid4().hex
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return  # no signature over bytes that are not text: the server answers 401
        now = datetime.now(UTC)
        request.headers["webhook-id"] = msg_id
        request.headers["webhook-timestamp"] = str(int(now.timestamp()))
        request.headers["webhook-signature"] = self.events.sign(msg_id, now, text)


def _form_as_the_server_reads_it(body: bytes, headers: Any) -> Any:
    """The form fields werkzeug will parse from ``body`` (what the signature covers)."""
    environ = EnvironBuilder(method="POST", data=body,
                             content_type=headers.get("Content-Type")).get_environ()
    return Request(environ).form


PHONES = st.from_regex(r"\A\+1555[0-9]{7}\Z")
ZONES = st.sampled_from(["America/New_York", "America/Los_Angeles", "Europe/Madrid", "UTC"])


def reachability_hooks(schema: Any, case_id: str) -> None:
    """Let about half the generated cases past the checks random data never passes (a real
    phone number, a known time zone, an existing case), so they reach the engine and desk."""

    @schema.hook
    def flatmap_body(ctx: Any, body: Any) -> Any:
        label = ctx.operation.label if ctx.operation else ""
        if label == "POST /events" and isinstance(body, dict) \
                and isinstance(body.get("shipment"), dict) \
                and isinstance(body["shipment"].get("recipient"), dict):
            return st.one_of(st.just(body), st.builds(_with_phone_and_zone, st.just(body),
                                                      PHONES, ZONES))
        if label == "POST /webhooks/twilio/sms" and isinstance(body, dict):
            return st.one_of(st.just(body), PHONES.map(lambda phone: {**body, "From": phone}))
        return st.just(body)

    @schema.hook
    def flatmap_path_parameters(ctx: Any, params: Any) -> Any:
        if isinstance(params, dict) and "id" in params:
            return st.sampled_from([params, {**params, "id": case_id}])
        return st.just(params)


def _with_phone_and_zone(body: dict[str, Any], phone: str, zone: str) -> dict[str, Any]:
    shipment = dict(body["shipment"])
    shipment["recipient"] = {**shipment["recipient"], "phone": phone}
    shipment["timezone"] = zone
    if isinstance(shipment.get("address"), dict):
        shipment["address"] = {**shipment["address"], "country": "US"}
    return {**body, "shipment": shipment}


@dataclass
class Tally:
    cases: int = 0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    server_errors: int = 0
    violations: int = 0
    reports: list[str] = field(default_factory=list)

    def record(self, label: str, status: int | None, failures: FailureGroup | None,
               detail: str = "") -> None:
        self.cases += 1
        self.statuses.setdefault(label, Counter())[status or 0] += 1
        if failures is None:
            return
        names = {type(f).__name__ for f in failures.exceptions}
        if "ServerError" in names:
            self.server_errors += 1
        if names - {"ServerError"}:
            self.violations += 1
        kind = f"{label}: {sorted(names)}"
        if len(self.reports) < 10 and not any(r.startswith(kind) for r in self.reports):
            self.reports.append(f"{kind}\n{failures.message[:2000]}{detail}")


def fuzz(system: System, budget: int, fixed_seed: bool) -> Tally:
    """Run about ``budget`` generated cases over every operation; tally what went wrong."""
    system.runtime.staff.add("fuzz@example.com", "supervisor", "a long enough password")
    session = SigningSession(system, system.runtime.staff.issue_token("fuzz@example.com"))
    case_id = escalate(system, system.customer("+15551230001"))
    doc = system.http.get(system.url + "/api/openapi.json", timeout=15).json()
    schema = schemathesis.openapi.from_dict(doc)
    reachability_hooks(schema, case_id)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.label not in SKIPPED]
    # Half positive (valid by the document), half negative (deliberately invalid) cases;
    # operations with few distinct inputs run out early, so more rounds top the count up.
    tally = Tally()
    for round_ in itertools.count():
        per_run = math.ceil((budget - tally.cases) / (2 * len(operations)))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for index, operation in enumerate(operations):
                if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
                    continue  # nothing to make invalid: its positive cases suffice
                run_seed = round_ * 1000 + index if fixed_seed else None
                _fuzz_operation(operation, mode, per_run, session, system.url, tally, run_seed)
        if tally.cases >= budget:
            return tally
    raise AssertionError("unreachable")


def _has_inputs(operation: Any) -> bool:
    return any(len(part) for part in (operation.body, operation.path_parameters,
                                      operation.query, operation.headers, operation.cookies))


def _fuzz_operation(operation: Any, mode: GenerationMode, examples: int,
                    session: SigningSession, base_url: str, tally: Tally,
                    run_seed: int | None) -> None:
    @settings(max_examples=examples, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            response = case.call(base_url=base_url, session=session, timeout=15)
        except requests.RequestException as exc:  # no answer at all: count it as a 5xx
            tally.server_errors += 1
            tally.record(operation.label, None, None)
            tally.reports.append(f"{operation.label}: no answer: {type(exc).__name__}: {exc}")
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failures:
            tally.record(operation.label, response.status_code, failures)
            return
        tally.record(operation.label, response.status_code, None)

    if run_seed is not None:
        run = seed(run_seed)(run)
    try:
        run()
    except Unsatisfiable:
        pass  # every input this mode could draw was filtered out


def _run(make_system: Any, budget: int, fixed_seed: bool) -> None:
    system = make_system(RATE_LIMIT_EVENTS="off", RATE_LIMIT_WEBHOOKS="off")
    started = time.monotonic()
    tally = fuzz(system, budget, fixed_seed)
    elapsed = time.monotonic() - started
    for label, statuses in sorted(tally.statuses.items()):
        print(f"  {label}: " + ", ".join(f"{code} x{n}" for code, n in sorted(statuses.items())))
    print(f"schemathesis: {tally.cases} cases over {len(tally.statuses)} operations in "
          f"{elapsed:.1f} s, {tally.server_errors} server errors, {tally.violations} schema "
          f"violations")
    assert tally.server_errors == 0 and tally.violations == 0, "\n\n".join(tally.reports)
    assert tally.cases >= budget, f"only {tally.cases} cases generated"


def test_fuzz_300_cases_no_server_errors_no_schema_violations(make_system):
    _run(make_system, SHORT_RUN, fixed_seed=True)


@pytest.mark.long
@pytest.mark.timeout(600)
def test_fuzz_1000_cases_no_server_errors_no_schema_violations(make_system):
    _run(make_system, LONG_RUN, fixed_seed=False)
