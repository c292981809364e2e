"""FakeTelegramAPI: a loopback HTTP server speaking the Bot API as python-telegram-bot calls it.

Serves ``/bot<token>/<method>`` and ``GET /file/bot<token>/<file_path>``. Every call is checked
against the published Bot API description (``shared/peers/telegram_bot_api.json``): required and
unknown fields, basic types, nested keyboards (recursively), and Telegram's own limits. Point a
bot at it with ``telegram.Bot(fake.token, base_url=fake.url + "/bot",
base_file_url=fake.url + "/file/bot")``, or use :meth:`FakeTelegramAPI.bot`.

python-telegram-bot 22 posts ``application/x-www-form-urlencoded`` (``multipart/form-data`` only
when uploading) with every non-string value JSON-encoded (``12``, ``true``, ``{"inline_keyboard":
...}``), so form values are decoded by the field's declared type, as Telegram does. JSON bodies
are accepted too and checked strictly. ``fakes.telegram_updates`` builds the
JSON Telegram POSTs to a webhook.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import urlsplit

import filetype
import requests
import telegram
from werkzeug.wrappers import Request, Response

from .bot_api_contract import (
    UPLOAD,
    bot_api_spec,
    check_fields,
    check_object,
    decode_form,
    limits,
)
from .http import HTTPFake

__all__ = ["FakeTelegramAPI", "bot_api_spec", "check_object"]

_METHOD_RE = re.compile(r"/bot([^/]+)/([A-Za-z]+)")
_FILE_RE = re.compile(r"/file/bot([^/]+)/(.+)")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")
_DESCRIPTIONS = {400: "Bad Request: chat not found", 401: "Unauthorized",
                 403: "Forbidden: bot was blocked by the user", 404: "Not Found",
                 500: "Internal Server Error", 502: "Bad Gateway"}


def _reply(result: Any = None, status: int = 200, description: str | None = None,
           parameters: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if status != 200:
        body = {"ok": False, "error_code": status,
                "description": description or _DESCRIPTIONS.get(status, str(status))}
        if parameters:
            body["parameters"] = parameters
    return Response(json.dumps(body), status=status, content_type="application/json")


class FakeTelegramAPI(HTTPFake):
    """A validating stand-in for ``api.telegram.org`` on loopback.

    Recorded state (snapshots, safe to read from any thread): :attr:`calls` (every authorized,
    well-formed call, including ones answered with a programmed failure), :meth:`sent` (only
    messages Telegram accepted), :attr:`invalid_requests`, :attr:`webhook`.
    """

    def __init__(self, token: str | None = None, username: str = "doorstep_test_bot") -> None:
        """Create (not start) the fake; a realistic random token is made when none is given."""
        self.token = token or \
            f"{secrets.randbelow(9 * 10**8) + 10**8}:AA{secrets.token_urlsafe(25)[:33]}"
        self.username = username
        self.bot_id = int(self.token.split(":", 1)[0])
        # Telegram matches method names case-insensitively.
        self._methods = {m["name"].lower(): m for m in bot_api_spec()["methods"].values()}
        self._cond = threading.Condition()
        self._calls: list[tuple[str, dict[str, Any]]] = []
        self._sent: list[dict[str, Any]] = []
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._invalid: list[str] = []
        self._files: dict[str, dict[str, Any]] = {}
        self._failures: defaultdict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._webhook: dict[str, Any] = {}
        self._next_message_id = 1
        self._wake = threading.Event()  # set by clear()/stop() to cut programmed stalls short
        super().__init__("fake-telegram")

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot as a Telegram ``User`` (what getMe returns)."""
        return {"id": self.bot_id, "is_bot": True, "first_name": "Doorstep",
                "username": self.username, "can_join_groups": False,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    def bot(self) -> telegram.Bot:
        """A ``telegram.Bot`` pointed at this fake (call ``await bot.initialize()`` to use it)."""
        return telegram.Bot(self.token, base_url=self.url + "/bot",
                            base_file_url=self.url + "/file/bot")

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """(method, decoded params) for every authorized, well-formed call, in order."""
        with self._cond:
            return [(m, dict(p)) for m, p in self._calls]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """Decoded params of every well-formed call of ``method`` (failed ones included)."""
        return [p for m, p in self.calls if m == method]

    def sent(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Params of accepted sendMessage calls, optionally only those to ``chat_id``."""
        with self._cond:
            return [dict(p) for p in self._sent
                    if chat_id is None or str(p["chat_id"]) == str(chat_id)]

    def wait_for_sent(self, n: int, chat_id: int | str | None = None,
                      timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least ``n`` messages were accepted (for ``chat_id``); return them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.sent(chat_id)) >= n, timeout):
                raise AssertionError(
                    f"FakeTelegramAPI: expected >= {n} sent messages within {timeout}s, got "
                    f"{len(self.sent(chat_id))}; invalid requests: {self._invalid!r}; "
                    f"calls: {self._calls!r}")
            return self.sent(chat_id)

    @property
    def invalid_requests(self) -> list[str]:
        """One line per call Telegram would refuse with 400 (or the fake does not implement)."""
        with self._cond:
            return list(self._invalid)

    @property
    def webhook(self) -> dict[str, Any]:
        """The last setWebhook params (url, secret_token, allowed_updates, ...); {} if none."""
        with self._cond:
            return dict(self._webhook)

    def add_file(self, content: bytes, file_size: int | None = None, delay_s: float = 0) -> str:
        """Register a downloadable file; return its file_id for updates and getFile.

        ``file_size`` is what getFile declares (defaults to ``len(content)``): declare more than
        20 MB to get Telegram's "file is too big" without sending the bytes. ``delay_s`` stalls
        the download before any byte is sent.
        """
        kind = filetype.guess(content)
        folder = "photos" if kind and kind.mime.startswith("image/") else "documents"
        with self._cond:
            n = len(self._files)
            file_id = "AgACAgIAAxkBAAI" + secrets.token_urlsafe(48)
            self._files[file_id] = {
                "content": bytes(content), "delay_s": delay_s,
                "file_path": f"{folder}/file_{n}.{kind.extension if kind else 'bin'}",
                "file_size": len(content) if file_size is None else file_size,
                "file_unique_id": "AQAD" + hashlib.sha1(file_id.encode()).hexdigest()[:12]}
        return file_id

    def fail_next(self, method: str, status: int = 429, *, retry_after: int | None = None,
                  description: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` well-formed calls of ``method`` with Telegram's error shape.

        429 carries ``parameters.retry_after`` (default 1 s); 403 defaults to "Forbidden: bot
        was blocked by the user"; 400 to "Bad Request: chat not found".
        """
        params = None
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
            params = {"retry_after": retry_after}
        with self._cond:
            self._failures[method].extend([{"status": status, "description": description,
                                            "parameters": params}] * times)

    def clear(self) -> None:
        """Forget calls, files, failures, invalid requests and the webhook."""
        self._wake.set()
        with self._cond:
            for items in (self._calls, self._sent, self._invalid, self._messages, self._files,
                          self._failures, self._webhook):
                items.clear()
        self._wake = threading.Event()

    def stop(self) -> None:
        """Release stalled responses, then stop serving."""
        self._wake.set()
        super().stop()

    def deliver(self, url: str, update: dict[str, Any], secret_token: str | None = None,
                *, timeout: float = 10.0) -> requests.Response:
        """POST ``update`` to a loopback webhook as Telegram does (secret from setWebhook)."""
        if urlsplit(url).hostname not in _LOOPBACK_HOSTS:
            raise ValueError(f"FakeTelegramAPI: refusing to call non-loopback webhook {url}")
        secret = secret_token if secret_token is not None else self.webhook.get("secret_token")
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        with requests.Session() as session:
            session.trust_env = False
            return session.post(url, data=json.dumps(update), headers=headers, timeout=timeout)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        file_match = _FILE_RE.fullmatch(request.path)
        if file_match and request.method in ("GET", "HEAD"):
            response = self._download(*file_match.groups())
        else:
            response = self._call(request)
        return response(environ, start_response)

    def _download(self, token: str, file_path: str) -> Response:
        with self._cond:
            found = next((f for f in self._files.values() if f["file_path"] == file_path), None)
        if token != self.token or found is None:
            return _reply(status=404)
        self._wake.wait(found["delay_s"])
        return Response(found["content"], content_type="application/octet-stream")

    def _call(self, request: Request) -> Response:
        match = _METHOD_RE.fullmatch(request.path)
        if match is None:
            return _reply(status=404)
        token, name = match.groups()
        if token != self.token:
            return _reply(status=401)
        method = self._methods.get(name.lower())
        if method is None:
            return _reply(status=404)
        name = method["name"]
        fields = {f["name"]: f["types"] for f in method.get("fields", [])}
        params, problems = self._params(request, fields)
        problems += check_fields(params, method.get("fields", []), "") + limits(name, params)
        if not problems:
            handler = getattr(self, "_m_" + name, None)
            if handler is None and method.get("returns") != ["Boolean"]:
                problems = [f"FakeTelegramAPI does not implement {name}"]
        if problems:
            with self._cond:
                self._invalid.append(f"{name}: {'; '.join(problems)}")
            return _reply(status=400, description="Bad Request: " + "; ".join(problems))
        with self._cond:
            self._calls.append((name, params))
            failures = self._failures.get(name)
            failure = failures.popleft() if failures else None
        if failure is not None:
            return _reply(**failure)
        result = handler(params) if handler else True
        return result if isinstance(result, Response) else _reply(result)

    def _params(self, request: Request, fields: dict[str, list[str]]
                ) -> tuple[dict[str, Any], list[str]]:
        """Decode query, form, multipart or JSON parameters into JSON-typed values."""
        raw: dict[str, Any] = {k: decode_form(v, fields.get(k, ["String"]))
                               for k, v in request.values.items()}
        raw.update({k: UPLOAD for k in request.files})
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return raw, ["request body is not a JSON object"]
            raw.update(body)
        return raw, []

    def _message(self, chat_id: int, message_id: int, **extra: Any) -> dict[str, Any]:
        return {"message_id": message_id, "from": self.bot_user, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
                **{k: v for k, v in extra.items() if v is not None}}

    @staticmethod
    def _inline(markup: Any) -> Any:
        # A Message carries only inline keyboards; reply keyboards are not echoed by Telegram.
        return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            message_id, self._next_message_id = self._next_message_id, self._next_message_id + 1
        message = self._message(params["chat_id"], message_id, text=params["text"],
                                reply_markup=self._inline(params.get("reply_markup")))
        with self._cond:
            self._sent.append(params)
            self._messages[(params["chat_id"], message_id)] = message
            self._cond.notify_all()
        return message

    def _edit(self, params: dict[str, Any], **changes: Any) -> dict[str, Any] | bool:
        if "inline_message_id" in params:
            return True
        key = (params["chat_id"], params["message_id"])
        with self._cond:
            old = self._messages.get(key) or self._message(*key)
            self._messages[key] = message = {**old, "edit_date": int(time.time()), **changes}
        return {k: v for k, v in message.items() if v is not None}

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, reply_markup=self._inline(params.get("reply_markup")))

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, text=params["text"],
                          reply_markup=self._inline(params.get("reply_markup")))

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self._webhook = {k: v for k, v in params.items() if k != "certificate"}
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self._webhook = {}
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhook
        info = {"url": hook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}
        info.update({k: hook[k] for k in ("ip_address", "max_connections", "allowed_updates")
                     if k in hook})
        return info

    def _m_getFile(self, params: dict[str, Any]) -> Any:
        with self._cond:
            found = self._files.get(params["file_id"])
        if found is None:
            return _reply(status=400, description="Bad Request: invalid file_id")
        if found["file_size"] > _MAX_DOWNLOAD:
            return _reply(status=400, description="Bad Request: file is too big")
        return {"file_id": params["file_id"], "file_unique_id": found["file_unique_id"],
                "file_size": found["file_size"], "file_path": found["file_path"]}
