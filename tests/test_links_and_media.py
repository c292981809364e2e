"""Deep-link tokens, photo checks and the media store, without HTTP."""

from __future__ import annotations

import pytest
from images import heic_bytes, jpeg_bytes, pdf_bytes, png_bytes, webp_bytes

from bot.links import case_from_token, deep_link, link_key, link_token
from bot.media import FileMediaStore, MediaIntake, MediaRejected, check
from bot.models import MediaRef

KEY = link_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def test_token_names_its_case_and_fits_telegram_start_parameter():
    token = link_token("cs_0123456789abcdef", KEY)
    assert case_from_token(token, KEY) == "cs_0123456789abcdef"
    assert len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()
    assert deep_link("acme_bot", "cs_0123456789abcdef", KEY) == \
        f"https://t.me/acme_bot?start={token}"


def test_every_single_character_change_to_a_token_is_refused():
    token = link_token("cs_0123456789abcdef", KEY)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    forged = [token[:i] + c + token[i + 1:] for i in range(len(token)) for c in alphabet
              if c != token[i]]
    assert len(forged) == 27 * 63
    assert [f for f in forged if case_from_token(f, KEY) is not None] == []


def test_token_from_another_key_or_of_wrong_shape_is_refused():
    other = link_key("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert case_from_token(link_token("cs_0123456789abcdef", other), KEY) is None
    for junk in ("", "x", "cs_0123456789abcdef", "A" * 27, "A" * 28, "%" * 27):
        assert case_from_token(junk, KEY) is None


@pytest.mark.parametrize("content, kind", [
    (png_bytes(), "image/png"), (jpeg_bytes(), "image/jpeg"), (heic_bytes(), "image/heic"),
    (webp_bytes(), "image/webp")])
def test_photos_are_recognised_by_content(content, kind):
    assert check(content, 10 * 2**20) == kind


def test_a_pdf_is_refused_whatever_it_is_called():
    with pytest.raises(MediaRejected) as info:
        check(pdf_bytes(), 10 * 2**20)
    assert info.value.reason == "unsupported"


def test_a_photo_over_the_limit_is_refused():
    with pytest.raises(MediaRejected) as info:
        check(jpeg_bytes(2048), 1024)
    assert info.value.reason == "too_large"


class _Fetcher:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.fetched: list[str] = []

    def fetch(self, ref: MediaRef, max_bytes: int) -> bytes:
        self.fetched.append(ref.ref)
        if ref.ref not in self.files:
            raise MediaRejected("unavailable")
        return self.files[ref.ref]


def test_intake_stores_good_files_and_explains_the_rest(tmp_path):
    fetcher = _Fetcher({"a": png_bytes(), "b": pdf_bytes()})
    store = FileMediaStore(tmp_path / "media")
    intake = MediaIntake({"telegram": fetcher}, store, max_bytes=4096)
    items, refused = intake.take("telegram", (MediaRef("a"), MediaRef("b"), MediaRef("c"),
                                              MediaRef("d", size=25 * 2**20)), "cs_1")
    assert [i.content_type for i in items] == ["image/png"]
    assert refused == ["unsupported", "unavailable", "too_large"]
    assert "d" not in fetcher.fetched  # a declared size over the limit is not downloaded
    assert store.get(items[0].id) == (png_bytes(), "image/png")
    assert store.get("../../etc/passwd") is None
    assert sorted(p.suffix for p in (tmp_path / "media").iterdir()) == [".json", ".png"]


def test_intake_stops_starting_downloads_when_the_turn_runs_out_of_time(tmp_path):
    now = [0.0]

    class SlowFetcher(_Fetcher):
        def fetch(self, ref: MediaRef, max_bytes: int) -> bytes:
            now[0] += 10  # each download takes ten seconds
            return super().fetch(ref, max_bytes)

    fetcher = SlowFetcher({name: png_bytes() for name in "abcd"})
    intake = MediaIntake({"sms": fetcher}, FileMediaStore(tmp_path), 4096, clock=lambda: now[0])
    items, refused = intake.take("sms", tuple(MediaRef(n) for n in "abcd"), "cs_1")
    assert len(items) == 2 and refused == ["unavailable", "unavailable"]
    assert fetcher.fetched == ["a", "b"]
