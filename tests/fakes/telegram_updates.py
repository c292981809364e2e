"""Builders for the updates Telegram POSTs to a webhook (private chats; user id = chat id).

Each returns JSON that ``telegram.Update.de_json`` accepts and that matches the published
``Update`` type (checked in ``test_telegram_fakes.py``).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any


def _user(user_id: int, first_name: str = "Ana", language_code: str = "en") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name,
            "language_code": language_code}


def _update(update_id: int, chat_id: int, user: dict[str, Any] | None = None,
            **content: Any) -> dict[str, Any]:
    user = user or _user(chat_id)
    chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
    message = {"message_id": update_id, "from": user, "chat": chat, "date": int(time.time())}
    return {"update_id": update_id, "message": {**message, **content}}


def _file_ids(file_id: str, salt: str) -> dict[str, str]:
    digest = hashlib.sha1(f"{file_id}:{salt}".encode()).hexdigest()
    return {"file_id": file_id, "file_unique_id": "AQAD" + digest[:12]}


def text_update(update_id: int, chat_id: int, text: str, user_id: int | None = None,
                first_name: str = "Ana", language_code: str = "en") -> dict[str, Any]:
    """A private-chat text message from the customer."""
    user = _user(chat_id if user_id is None else user_id, first_name, language_code)
    return _update(update_id, chat_id, user, text=text)


def start_update(update_id: int, chat_id: int, payload: str) -> dict[str, Any]:
    """``/start <payload>``, as sent when the customer opens a ``t.me/<bot>?start=`` deep link."""
    return _update(update_id, chat_id, text=f"/start {payload}".rstrip(),
                   entities=[{"type": "bot_command", "offset": 0, "length": 6}])


def photo_update(update_id: int, chat_id: int, file_id: str, caption: str | None = None,
                 sizes: int = 3) -> dict[str, Any]:
    """A photo: ``sizes`` PhotoSizes, smallest first; the largest (last) has ``file_id``."""
    ids = [hashlib.sha256(f"{file_id}:{i}".encode()).hexdigest()[:48] for i in range(sizes)]
    photo = [{**_file_ids(file_id if i == sizes - 1 else "AgACAgIAAxkBAAI" + ids[i], str(i)),
              "width": 90 * 4**i, "height": 60 * 4**i, "file_size": 1500 * 12**i}
             for i in range(sizes)]
    return _update(update_id, chat_id, photo=photo,
                   **({"caption": caption} if caption is not None else {}))


def document_update(update_id: int, chat_id: int, file_id: str, file_name: str,
                    mime_type: str, file_size: int | None = None) -> dict[str, Any]:
    """A file sent as a document (uncompressed photo, PDF ...)."""
    document = {**_file_ids(file_id, "doc"), "file_name": file_name, "mime_type": mime_type}
    if file_size is not None:
        document["file_size"] = file_size
    return _update(update_id, chat_id, document=document)


def contact_update(update_id: int, chat_id: int, phone_number: str,
                   contact_user_id: int | None) -> dict[str, Any]:
    """A shared contact; the customer's own when ``contact_user_id == chat_id``."""
    contact = {"phone_number": phone_number, "first_name": "Ana"}
    if contact_user_id is not None:
        contact["user_id"] = contact_user_id
    return _update(update_id, chat_id, contact=contact)


def callback_update(update_id: int, chat_id: int, data: str, message_id: int = 1,
                    bot_user: dict[str, Any] | None = None) -> dict[str, Any]:
    """A press on an inline button carrying ``data``, on the bot's message ``message_id``."""
    bot = bot_user or {"id": 123456789, "is_bot": True, "first_name": "Doorstep",
                       "username": "doorstep_test_bot"}
    message = _update(message_id, chat_id, bot, text="…")["message"]
    message["chat"]["first_name"] = "Ana"
    query = {"id": str(4_000_000_000_000 + update_id), "from": _user(chat_id), "message": message,
             "chat_instance": str(-7_000_000_000 - chat_id), "data": data}
    return {"update_id": update_id, "callback_query": query}
