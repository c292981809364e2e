"""The console API's test helpers and fixtures: calls whose every answer is checked
against the served /api/openapi.json, a signed-in agent, an escalated conversation.
Registered as a plugin in conftest.py, so its fixtures are everywhere."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from console_support import StaffClient, add_staff, escalate, login
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from support import Customer, System

_specs: dict[str, OpenAPI] = {}


def spec_for(system: System) -> OpenAPI:
    """The app's own OpenAPI document, fetched once per running system."""
    if system.url not in _specs:
        resp = system.http.get(system.url + "/api/openapi.json", timeout=15)
        assert resp.status_code == 200, resp.text
        _specs.clear()
        _specs[system.url] = OpenAPI.from_dict(resp.json())
    return _specs[system.url]


def documented(system: System, resp: requests.Response) -> requests.Response:
    """``resp``, after checking its status, headers and body are what the document says."""
    spec_for(system).validate_response(RequestsOpenAPIRequest(resp.request),
                                       RequestsOpenAPIResponse(resp))
    return resp


class Api:
    """Calls to /api as a staff member (or nobody), each answer checked against the spec."""

    def __init__(self, system: System, client: StaffClient | None = None,
                 token: str | None = None) -> None:
        self.system = system
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 15)
        kw["headers"] = {**self.headers, **kw.get("headers", {})}
        if self.client is not None:
            resp = getattr(self.client, method)(path, **kw)
        else:
            resp = self.system.http.request(method, self.system.url + path, **kw)
        return documented(self.system, resp)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("get", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.call("post", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("delete", path, **kw)

    def conversation(self, case_id: str) -> dict[str, Any]:
        resp = self.get(f"/api/conversations/{case_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()

    def listed(self, **params: str) -> list[str]:
        resp = self.get("/api/conversations", params=params)
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["conversations"]]


def staff_api(system: System, email: str, role: str = "agent", name: str | None = None) -> Api:
    add_staff(system, email, role, name=name)
    return Api(system, login(system, email))


def escalated_case(system: System, phone: str = "+15551230001", **event: Any
                   ) -> tuple[str, Customer, str]:
    """A failed delivery whose customer asks for a person: case id, customer, first offer."""
    customer = system.customer(phone)
    case_id = escalate(system, customer, **event)
    return case_id, customer, customer.messages()[0]["body"]


def callback_of(system: System, type_: str, timeout: float = 10.0) -> dict[str, Any]:
    """The first shipper callback of ``type_`` (waiting for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c["payload"] for c in system.shipper.callbacks
                 if c["payload"]["type"] == type_]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no {type_} callback within {timeout}s")


@pytest.fixture
def sam(system: System) -> Api:
    return staff_api(system, "sam@example.com", name="Sam")


@pytest.fixture
def escalated(system: System) -> tuple[str, Customer, str]:
    return escalated_case(system)
