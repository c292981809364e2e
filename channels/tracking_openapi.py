"""The tracking page's two operations in the served OpenAPI document.

They answer HTML for people, not JSON: described so that clients (and the fuzz test) know
every status and content type the page uses.
"""

from __future__ import annotations

from typing import Any

from console.openapi import STRING, extend, obj

HTML = {"text/html": {"schema": STRING}}
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_TOKEN = {"name": "token", "in": "path", "required": True,
          "description": "The 27-character signed token from the customer's message "
                         "(base64url: the case id and an HMAC tag).",
          "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{27}$"}}
_GONE = {"description": "A friendly page, the same for a tampered, malformed or unknown "
                        "token, an erased case and a link past TRACKING_LINK_DAYS.",
         "content": HTML}


def _page(description: str) -> dict[str, Any]:
    return {"description": description, "content": HTML}


def _paths() -> dict[str, Any]:
    form = obj(nonce={"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$",
                      "description": "From the page's form; a repeated nonce is a replay."},
               action={"type": "string", "enum": ["reschedule", "address", "damage", "delay",
                                                  "missing", "human"]},
               answer=STRING, text={"type": "string", "maxLength": 1000})
    upload = {**form, "properties": {**form["properties"],
                                     "photo": {"type": "string", "format": "binary"}}}
    return {"/t/{token}": {
        "get": {"summary": "The customer's tracking page (HTML).", "tags": ["tracking"],
                "security": [], "parameters": [_TOKEN],
                "responses": {"200": _page("The page: the shipment, its state, the history "
                                           "in plain words and, while the case is open, the "
                                           "questions and actions."),
                              "404": _GONE}},
        "post": {"summary": "A customer's answer, photo or action from the tracking page.",
                 "tags": ["tracking"], "security": [], "parameters": [_TOKEN],
                 "requestBody": {"required": True, "content": {
                     FORMS[0]: {"schema": form}, FORMS[1]: {"schema": upload}}},
                 "responses": {
                     "303": {"description": "Taken (or a replay, or nothing to take): back "
                                            "to the page.",
                             "headers": {"Location": {"description": "The page.",
                                                      "schema": STRING}}},
                     "400": _page("Not one of the page's forms (no nonce, another body "
                                  "type)."),
                     "404": _GONE,
                     "413": _page("The photo is over MEDIA_MAX_MB."),
                     "429": {**_page("Too many posts from this address "
                                     "(RATE_LIMIT_TRACKING)."),
                             "headers": {"Retry-After": {
                                 "description": "Seconds to wait before retrying.",
                                 "schema": {"type": "integer", "minimum": 1}}}},
                     "503": _page("The case is busy with another turn; try again.")}}}}


def register() -> None:
    """Add ``/t/{token}`` to the document."""
    extend(paths=_paths())
