"""The address flow outside the service area: pickup points or a person."""

from __future__ import annotations

import pytest
from address_dialogue import (
    FULL_ADDRESS,
    POINTS,
    make_ctx,
    parse,
    said,
    to_confirm,
)

from flows.address_parts import in_service_area
from flows.base import Callback, Escalate, PickupPoint, Resolve


# -- service area -------------------------------------------------------------
@pytest.mark.parametrize("area, code, inside", [
    (("021",), "02110", True), (("021",), "03110", False), (("10001",), "10001", True),
    (("10001",), "10002", False), (("10001",), "10001-2345", True), ((), "99999", True),
    (("021", "10001"), "10001", True),
])
def test_service_area_matches_postal_codes_and_prefixes(area, code, inside):
    assert in_service_area(code, area) is inside


def test_an_address_inside_a_prefix_area_goes_to_confirmation(flow):
    step = to_confirm(flow, make_ctx(area=("021",)))
    assert step.state["address"]["postal_code"] == "02110"


@pytest.mark.parametrize("lang, sorry, person", [
    ("en", "Sorry, we don't deliver to ZIP 10002.", "Talk to a person"),
    ("es", "No entregamos en el código postal 10002.", "Hablar con una persona"),
])
def test_outside_the_area_offers_pickup_points_and_choosing_two_selects_it(flow, lang, sorry,
                                                                           person):
    ctx = make_ctx(lang, area=("021", "10001"), points=POINTS)
    step = flow.step(flow.start(ctx, []).state, said("5 Pine St, New York NY 10002"), ctx)
    assert step.state["step"] == "outside"
    assert step.replies[0].text.startswith(sorry)
    assert step.replies[0].choices == ("Acme Depot, 1 Dock Rd, Boston MA 02110",
                                       "Corner Shop, 77 Main St, Cambridge MA 02139", person)
    done = flow.step(step.state, parse(option_number=2), ctx)
    point = {"name": "Corner Shop", "address": "77 Main St, Cambridge MA 02139"}
    assert done.effects == (Callback("case.pickup_selected", {"pickup_point": point}),
                            Resolve("pickup_selected", {"pickup_point": point}))
    assert done.state["step"] == "done"
    assert "Corner Shop, 77 Main St" in done.replies[0].text


def test_outside_the_area_without_pickup_points_escalates(flow):
    ctx = make_ctx(area=("021",))
    step = flow.step(flow.start(ctx, []).state, said("5 Pine St, New York NY 10002"), ctx)
    assert step.state["step"] == "escalated"
    assert "10002" in step.replies[0].text
    (escalate,) = step.effects
    assert isinstance(escalate, Escalate) and escalate.reason == "address outside service area"
    assert escalate.summary["address"]["postal_code"] == "10002"


def test_choosing_a_person_at_the_pickup_question_escalates(flow):
    ctx = make_ctx(area=("021",), points=POINTS)
    step = flow.step(flow.start(ctx, []).state, said("5 Pine St, New York NY 10002"), ctx)
    step = flow.step(step.state, parse(option_number=3), ctx)
    assert step.state["step"] == "escalated"
    assert [type(e) for e in step.effects] == [Escalate]


def test_a_different_address_at_the_pickup_question_is_read_instead(flow):
    ctx = make_ctx(area=("021",), points=POINTS)
    step = flow.step(flow.start(ctx, []).state, said("5 Pine St, New York NY 10002"), ctx)
    step = flow.step(step.state, said("oops, it's 12 Oak St Apt 4, Boston MA 02110"), ctx)
    assert step.state["step"] == "confirm"
    assert step.state["address"] == FULL_ADDRESS


def test_pickup_points_are_listed_nearest_first_three_at_most(flow):
    points = (PickupPoint("Far", "9 Bay Rd, Newark NJ 07102"),
              PickupPoint("Near", "1 Canal St, New York NY 10013"),
              PickupPoint("Nearest", "5 Main St, New York NY 10003"),
              PickupPoint("Farther", "2 Elm St, Boston MA 02110"))
    ctx = make_ctx(area=("021",), points=points)
    step = flow.step(flow.start(ctx, []).state, said("5 Pine St, New York NY 10002"), ctx)
    assert [c.split(",")[0] for c in step.replies[0].choices] == ["Nearest", "Near", "Far",
                                                                  "Talk to a person"]
    chosen = flow.step(step.state, parse(option_number=1), ctx).effects[0]
    assert chosen.data["pickup_point"]["name"] == "Nearest"


def test_long_pickup_labels_are_listed_fewer_rather_than_overflow_two_sms(flow):
    points = tuple(PickupPoint(f"Doorstep Partner Store Number {n}", "1200 Massachusetts "
                               f"Avenue Suite 1200, North Cambridge MA 0213{n}")
                   for n in range(1, 4))
    ctx = make_ctx("es", area=("021",), points=points)
    step = flow.step(flow.start(ctx, []).state, said("5 Pine St, New York NY 10002"), ctx)
    assert 2 <= len(step.replies[0].choices) < 4
    assert step.replies[0].choices[-1] == "Hablar con una persona"


def test_an_out_of_range_pickup_number_is_asked_again_with_the_choices(flow):
    ctx = make_ctx(area=("021",), points=POINTS)
    step = flow.step(flow.start(ctx, []).state, said("5 Pine St, New York NY 10002"), ctx)
    step = flow.step(step.state, parse(option_number=7), ctx)
    assert "from 1 to 3" in step.replies[0].text and len(step.replies[0].choices) == 3


