"""The day pages' hook (``sessions.day_extras``): the apps above scheduling add to an
appointment through it, scheduling's code and templates never name them."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from sessions import day_extras
from sessions.services import appointment_cancel
from tests.factories import PatientFactory
from tests.fixtures.scheduling import book_today

ROOT = Path(settings.BASE_DIR)


class Visit:
    def __init__(self, pk):
        self.pk = pk


@pytest.fixture
def no_providers(monkeypatch):
    monkeypatch.setattr(day_extras, "_PROVIDERS", {})


def test_extras_of_every_provider_are_merged_per_appointment_in_order(no_providers):
    calls = []

    def first(user, appointments, place):
        calls.append(("first", [a.pk for a in appointments], place))
        return {1: {"template": "a.html"}, 2: {"template": "b.html"}}

    def second(user, appointments, place):
        calls.append(("second", [a.pk for a in appointments], place))
        return {2: {"template": "c.html", "n": 3}}

    day_extras.register("first", first)
    day_extras.register("second", second)
    day_extras.register("nothing", lambda user, appointments, place: None)
    visits = [Visit(1), Visit(2), Visit(3)]
    assert day_extras.extras_for("user", visits, day_extras.TODAY) == {
        1: [{"template": "a.html"}],
        2: [{"template": "b.html"}, {"template": "c.html", "n": 3}],
    }
    # Each provider is asked once for the whole list.
    assert calls == [("first", [1, 2, 3], "today"), ("second", [1, 2, 3], "today")]

    day_extras.attach_extras("user", visits, day_extras.MY_DAY)
    assert [len(v.extras) for v in visits] == [1, 2, 0]


def test_no_appointments_asks_no_provider_and_an_unknown_place_is_a_mistake(no_providers):
    def boom(user, appointments, place):
        raise AssertionError("asked for nothing")

    day_extras.register("boom", boom)
    assert day_extras.extras_for("user", [], day_extras.TODAY) == {}
    with pytest.raises(ValueError):
        day_extras.extras_for("user", [Visit(1)], "elsewhere")


def test_registering_a_name_again_replaces_the_provider(no_providers):
    day_extras.register("x", lambda user, appointments, place: {1: {"v": 1}})
    day_extras.register("x", lambda user, appointments, place: {1: {"v": 2}})
    assert day_extras.extras_for("user", [Visit(1)], day_extras.TODAY) == {1: [{"v": 2}]}


@pytest.mark.django_db
def test_day_pages_render_without_any_provider(no_providers, clinic_setup, front_desk, client_for):
    visit = book_today(clinic_setup, front_desk, PatientFactory(), 10)
    appointment_cancel(actor=front_desk, appointment=visit, by_patient=True, reason="Flu")
    client = client_for(front_desk)
    today = client.get("/today/")
    panel = client.get(reverse("treatment_sessions:calendar_appointment", args=[visit.pk]))
    assert today.status_code == 200 and panel.status_code == 200
    assert 'data-testid="checkout"' not in today.content.decode()
    assert 'data-testid="panel-checkout"' not in panel.content.decode()


@pytest.mark.django_db
def test_with_the_installed_apps_a_finished_visit_gets_its_checkout(
    clinic_setup, front_desk, client_for
):
    open_visit = book_today(clinic_setup, front_desk, PatientFactory(), 9)
    visit = book_today(clinic_setup, front_desk, PatientFactory(), 10)
    appointment_cancel(actor=front_desk, appointment=visit, by_patient=True, reason="Flu")
    client = client_for(front_desk)
    today = client.get("/today/").content.decode()
    assert today.count('data-testid="checkout"') == 1 and f"/{visit.pk}/" in today
    panel = reverse("treatment_sessions:calendar_appointment", args=[visit.pk])
    assert 'data-testid="panel-checkout"' in client.get(panel).content.decode()
    panel = reverse("treatment_sessions:calendar_appointment", args=[open_visit.pk])
    assert 'data-testid="panel-checkout"' not in client.get(panel).content.decode()


def test_scheduling_templates_never_name_billing():
    templates = sorted((ROOT / "templates" / "treatment_sessions").rglob("*.html"))
    assert templates
    naming = [
        str(path.relative_to(ROOT))
        for path in templates
        if "billing" in path.read_text(encoding="utf-8").lower()
    ]
    assert naming == []


def test_scheduling_code_never_imports_billing():
    importing = re.compile(r"^\s*(from|import)\s+billing\b", re.MULTILINE)
    modules = sorted((ROOT / "sessions").rglob("*.py"))
    assert modules
    naming = [
        str(path.relative_to(ROOT))
        for path in modules
        if importing.search(path.read_text(encoding="utf-8"))
    ]
    assert naming == []
