"""Insights figures: hand-built timelines against hand-computed values, exactly.

Seven cases are written entry by entry through ``Store.append_timeline`` (the path
every turn takes), with times set by hand, on a real Redis. The expected figures
below were worked out on paper from the table in this docstring's test.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from bot.insights import Filters, Insights, median_p90, rebuild_facts
from bot.insights_facts import facts_key
from bot.insights_table import CSV_COLUMNS
from bot.store import Store

NY = ZoneInfo("America/New_York")
W = ["2026-11-05T13:00:00+00:00", "2026-11-05T17:00:00+00:00", "2026-11-06T13:00:00+00:00"]
OTHER = "2026-11-09T21:00:00+00:00"


def at(day: int, hour: int, minute: int = 0, plus_s: int = 0) -> str:
    """A local New York time in November 2026, plus seconds, as the timeline writes it."""
    return (datetime(2026, 11, day, hour, minute, tzinfo=NY)
            + timedelta(seconds=plus_s)).isoformat()


class Builder:
    def __init__(self, store: Store) -> None:
        self.store = store

    def case(self, case_id: str, opened: str, type_: str, carrier: str, reason: str,
             postal: str, *entries: tuple[int, str, dict]) -> None:
        self.store.append_timeline(case_id, "case.opened", at=opened, type=type_,
                                   carrier=carrier, reason=reason, postal_code=postal)
        self.store.append_timeline(case_id, "event.received", at=opened, type=type_)
        start = datetime.fromisoformat(opened)
        for plus_s, kind, data in entries:
            when = (start + timedelta(seconds=plus_s)).isoformat()
            self.store.append_timeline(case_id, kind, at=when, **data)


def queued(channel: str, author: str = "bot") -> dict:
    return {"channel": channel, "author": author, "key": "k", "text": "t"}


@pytest.fixture
def insights(redis_client: redis.Redis) -> Insights:
    store = Store(redis_client)
    b = Builder(store)
    # A: SMS, books the second window first offered, 600 s after opening.
    b.case("cs_a", at(1, 10), "delivery.failed", "ups", "no_one_home", "10001",
           (0, "windows.offered", {"windows": W, "count": 5}),
           (1, "message.queued", queued("sms")), (2, "message.sent", {"channel": "sms"}),
           (3, "message.status", {"status": "delivered"}),
           (300, "message.queued", queued("sms")), (301, "message.sent", {"channel": "sms"}),
           (590, "window.reserved", {"window": {"start": W[1], "end": W[1]}}),
           (600, "case.resolved", {"outcome": "rescheduled"}))
    # B: asks for another day, meets a full window first; resolved after 1800 s.
    b.case("cs_b", at(1, 12), "delivery.failed", "ups", "no_one_home", "10001",
           (0, "windows.offered", {"windows": W, "count": 3}),
           (1, "message.queued", queued("sms")), (2, "message.sent", {"channel": "sms"}),
           (100, "window.full", {"window": {"start": W[0], "end": W[0]}}),
           (1700, "window.reserved", {"window": {"start": OTHER, "end": OTHER}}),
           (1800, "case.resolved", {"outcome": "rescheduled"}))
    # C: damage, escalated at 300 s, first staff message at 900 s, staff resolve at 3600 s.
    b.case("cs_c", at(2, 9), "delivery.damaged", "fedex", "damaged", "94105",
           (300, "case.escalated", {"reason": "customer asked"}),
           (900, "message.queued", queued("sms", "staff")),
           (901, "message.sent", {"channel": "sms"}),
           (1200, "message.queued", queued("sms", "staff")),
           (1201, "message.sent", {"channel": "sms"}),
           (3600, "case.resolved", {"outcome": "refund", "resolved_by": "sam@x.test"}))
    # D: opened 20:30 in New York on the 2nd (01:30 UTC on the 3rd): a day-2 case.
    # Offered windows, texts STOP, a reminder is suppressed, expires after a day.
    b.case("cs_d", at(2, 20, 30), "delivery.failed", "fedex", "no_one_home", "94105",
           (0, "windows.offered", {"windows": W, "count": 3}),
           (1, "message.queued", queued("sms")), (2, "message.sent", {"channel": "sms"}),
           (60, "customer.opted_out", {"channel": "sms"}),
           (3600, "message.queued", queued("sms")),
           (3601, "message.suppressed", {"channel": "sms", "reason": "opted_out"}),
           (86400, "case.expired", {"reason": "no_reply"}))
    # E: delay on Telegram, closed by the shipper's delivered event after 7200 s.
    b.case("cs_e", at(3, 8), "delivery.delayed", "ups", "weather", "10001",
           (1, "message.queued", queued("telegram")),
           (2, "message.sent", {"channel": "telegram"}),
           (7200, "event.received", {"type": "delivery.delivered"}),
           (7200, "case.resolved", {"outcome": "delivered"}))
    # F: escalated at 60 s, a person writes at 180 s, hands back; a bot text fails.
    b.case("cs_f", at(3, 11), "delivery.address_invalid", "ups", "address_not_found", "60601",
           (60, "case.escalated", {"reason": "customer asked"}),
           (180, "message.queued", queued("sms", "staff")),
           (181, "message.sent", {"channel": "sms"}),
           (400, "staff.handed_back", {"by": "sam@x.test"}),
           (500, "message.queued", queued("sms")),
           (560, "message.failed", {"channel": "sms", "error_code": "30005"}))
    # G: before the range.
    b.case("cs_g", at(1, 10) .replace("2026-11-01", "2026-10-20"), "delivery.failed", "ups",
           "no_one_home", "10001", (60, "case.resolved", {"outcome": "rescheduled"}))
    return Insights(store, "America/New_York")


RANGE = Filters(date(2026, 11, 1), date(2026, 11, 3))


def test_outcomes_and_rates_match_the_hand_count(insights: Insights) -> None:
    figures = insights.figures(RANGE)
    assert figures["cases"] == 6
    assert figures["outcomes"] == {"resolved_by_customer": 2, "resolved_by_staff": 1,
                                   "resolved_by_shipper": 1, "expired": 1, "escalated": 2,
                                   "self_service": 2, "open": 1}
    assert figures["rates"] == {"self_service": 0.3333, "escalation": 0.3333, "expiry": 0.1667}


def test_durations_are_the_median_and_nearest_rank_p90(insights: Insights) -> None:
    durations = insights.figures(RANGE)["durations"]
    # Resolved: 600, 1800, 3600, 7200 s. Median (1800 + 3600) / 2; p90 the 4th of 4.
    assert durations["time_to_resolution"] == {"count": 4, "median_s": 2700.0, "p90_s": 7200.0}
    # First staff response: C 600 s, F 120 s.
    assert durations["time_to_first_staff_response"] == {"count": 2, "median_s": 360.0,
                                                         "p90_s": 600.0}


def test_reschedule_outcomes_compare_the_booked_window_with_the_first_offer(
        insights: Insights) -> None:
    assert insights.figures(RANGE)["reschedule"] == {
        "offered": 3, "booked_first_offer": 1, "booked_other_window": 1, "not_booked": 1,
        "met_a_full_window": 1}


def test_top_lists_count_cases_and_break_ties_alphabetically(insights: Insights) -> None:
    top = insights.figures(RANGE)["top"]
    assert top["postal_codes"] == [["10001", 3], ["94105", 2], ["60601", 1]]
    assert top["carriers"] == [["ups", 4], ["fedex", 2]]
    assert top["reasons"] == [["no_one_home", 3], ["address_not_found", 1], ["damaged", 1],
                              ["weather", 1]]


def test_delivery_by_channel_and_opt_out_rate(insights: Insights) -> None:
    figures = insights.figures(RANGE)
    # SMS: A 2, B 1, C 2, D 2, F 2 queued; D's second suppressed; F's second failed.
    assert figures["delivery"]["sms"] == {"queued": 9, "sent": 7, "delivered": 1, "failed": 1,
                                          "suppressed": 1, "success_rate": 0.875}
    assert figures["delivery"]["telegram"] == {"queued": 1, "sent": 1, "delivered": 0,
                                               "failed": 0, "suppressed": 0,
                                               "success_rate": 1.0}
    assert figures["delivery"]["web"]["success_rate"] is None
    assert figures["opt_out"] == {"sms_cases": 5, "opted_out": 1, "rate": 0.2}


def test_cases_count_on_their_local_opening_day(insights: Insights) -> None:
    over = insights.figures(RANGE)["over_time"]
    assert over["days"] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert over["by_type"] == {"delivery.failed": [2, 1, 0], "delivery.damaged": [0, 1, 0],
                               "delivery.address_invalid": [0, 0, 1],
                               "delivery.delayed": [0, 0, 1]}
    assert over["by_reason"]["no_one_home"] == [2, 1, 0]
    assert over["by_reason"]["weather"] == [0, 0, 1]


def test_filters_by_type_carrier_and_date(insights: Insights) -> None:
    failed = insights.figures(Filters(RANGE.start, RANGE.end, types=("delivery.failed",)))
    assert failed["cases"] == 3
    assert failed["durations"]["time_to_resolution"] == {"count": 2, "median_s": 1200.0,
                                                         "p90_s": 1800.0}
    fedex = insights.figures(Filters(RANGE.start, RANGE.end, carriers=("fedex",)))
    assert fedex["cases"] == 2 and fedex["outcomes"]["expired"] == 1
    assert insights.figures(Filters(date(2026, 10, 1), date(2026, 11, 1)))["cases"] == 3
    unknown = insights.figures(Filters(RANGE.start, RANGE.end, carriers=("nobody",)))
    assert unknown["cases"] == 0 and unknown["rates"]["self_service"] is None


def test_export_rows_carry_each_case_and_its_resolution(insights: Insights) -> None:
    rows = list(insights.rows(RANGE))
    assert [r["case_id"] for r in rows] == ["cs_a", "cs_b", "cs_c", "cs_d", "cs_e", "cs_f"]
    assert all(tuple(r) == CSV_COLUMNS for r in rows)
    c = rows[2]
    assert (c["status"], c["outcome"], c["closed_by"]) == ("resolved", "refund", "staff")
    assert c["time_to_resolution_s"] == 3600.0 and c["time_to_first_staff_response_s"] == 600.0
    assert rows[0]["reschedule"] == "booked_first_offer" and rows[3]["opted_out"] == "yes"
    assert rows[5]["status"] == "awaiting_customer" and rows[5]["time_to_resolution_s"] == ""


def test_a_new_entry_changes_the_figures_and_only_its_case_is_read_again(
        insights: Insights) -> None:
    before = insights.figures(RANGE)
    Store(insights.redis).append_timeline("cs_f", "case.resolved", at=at(3, 12),
                                          outcome="address_changed")
    assert insights.refresh() == 1
    after = insights.figures(RANGE)
    assert after["outcomes"]["resolved_by_customer"] == before["outcomes"][
        "resolved_by_customer"] + 1
    assert after["outcomes"]["open"] == 0
    # F was escalated, so its customer resolution is not self-service.
    assert after["outcomes"]["self_service"] == before["outcomes"]["self_service"]


def test_another_process_sees_the_same_figures(insights: Insights) -> None:
    other = Insights(Store(insights.redis), "America/New_York")
    assert other.figures(RANGE) == insights.figures(RANGE)


def test_rebuilding_from_timelines_gives_the_same_figures(insights: Insights,
                                                          redis_client: redis.Redis) -> None:
    before = insights.figures(RANGE)
    redis_client.delete(facts_key("cs_c"))
    redis_client.hset(facts_key("cs_a"), "status", "expired")  # drifted: rebuilt from truth
    store = Store(redis_client)
    for case_id in "abcdefg":  # the cases index: rebuild walks it
        redis_client.zadd("ds:cases", {f"cs_{case_id}": 0})
    assert rebuild_facts(store) == 7
    assert Insights(store, "America/New_York").figures(RANGE) == before


def test_median_and_p90_of_odd_and_single_counts() -> None:
    import numpy as np

    assert median_p90(np.array([5.0])) == {"count": 1, "median_s": 5.0, "p90_s": 5.0}
    values = np.array([float(v) for v in range(1, 11)])  # 1..10
    assert median_p90(values) == {"count": 10, "median_s": 5.5, "p90_s": 9.0}
    assert median_p90(np.array([3.0, 1.0, 2.0])) == {"count": 3, "median_s": 2.0, "p90_s": 3.0}


@pytest.mark.parametrize(("query", "error"), [
    ({"from": "yesterday"}, "'from' must be a date"),
    ({"from": "2026-11-05", "to": "2026-11-01"}, "'from' must not be after 'to'"),
])
def test_bad_filters_are_refused_with_a_clear_message(query: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Filters.from_query(query, date(2026, 11, 24))


def test_filters_default_to_the_last_ninety_days() -> None:
    f = Filters.from_query({}, date(2026, 11, 24))
    assert (f.start, f.end) == (date(2026, 8, 27), date(2026, 11, 24))
