"""The shape of the Telegram ``Update`` fields Doorstep reads, checked before parsing.

python-telegram-bot's ``de_json`` trusts its input (a ``text`` of 5 or a ``date`` in the
year 10 000 crash later, deep inside), so :func:`check_update` validates, strictly, the
fields ``channels.telegram.parse_update`` uses; every other field may be anything. The
same models describe the webhook's body in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

LATEST_DATE = 2**32  # Unix seconds: Telegram's dates are 32-bit


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class TelegramUser(_Part):
    id: int
    is_bot: bool
    first_name: str
    language_code: str | None = None


class TelegramChat(_Part):
    id: int
    type: str


class TelegramPhotoSize(_Part):
    file_id: str
    file_unique_id: str
    width: int
    height: int
    file_size: int | None = None


class TelegramDocument(_Part):
    file_id: str
    file_unique_id: str
    mime_type: str | None = None
    file_size: int | None = None


class TelegramContact(_Part):
    phone_number: str
    first_name: str
    user_id: int | None = None


class TelegramMessage(_Part):
    message_id: int
    date: int = Field(ge=0, le=LATEST_DATE, description="Unix seconds.")
    chat: TelegramChat
    from_: TelegramUser | None = Field(default=None, alias="from")
    text: str | None = None
    caption: str | None = None
    photo: list[TelegramPhotoSize] | None = None
    document: TelegramDocument | None = None
    contact: TelegramContact | None = None


class TelegramCallbackQuery(_Part):
    id: str
    from_: TelegramUser = Field(alias="from")
    chat_instance: str
    data: str | None = None
    message: TelegramMessage | None = None


class TelegramUpdate(_Part):
    """A Telegram Update; only private-chat messages and callback queries are acted on."""

    update_id: int
    message: TelegramMessage | None = None
    callback_query: TelegramCallbackQuery | None = None


def check_update(data: Any) -> None:
    """Raise ValueError naming the first field Doorstep reads that has the wrong type."""
    try:
        TelegramUpdate.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValueError(f"not a Telegram update: {where}: {first['msg']}") from None


def update_schemas(ref_template: str) -> dict[str, dict[str, Any]]:
    """Generate the JSON schemas of ``TelegramUpdate`` and its parts for the OpenAPI document."""
    schema = TelegramUpdate.model_json_schema(ref_template=ref_template)
    return {**schema.pop("$defs", {}), "TelegramUpdate": schema}
