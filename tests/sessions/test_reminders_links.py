"""The link in a message, without logging in: confirm or cancel from a reminder (under the
portal's cancellation window), answer the side-effects question after a session; a tampered,
expired, reused or outdated link shows a friendly page and changes nothing."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from clinic.models import AuditEvent, ClinicSettings
from sessions.messaging.services import messages_dispatch_due
from sessions.models import (
    Appointment,
    FollowUpAnswer,
    MessageLink,
    OutboundMessage,
    PortalRequest,
)
from sessions.services import (
    appointment_check_in,
    appointment_complete,
    appointment_reschedule,
    appointment_start,
)
from tests.fixtures.messaging import SITE, at, consenting_patient, future_day, make_due
from tests.fixtures.scheduling import NEW_YORK, book

pytestmark = pytest.mark.django_db


def sent_link(appointment):
    """Send the appointment's email reminder now and return the path of its link."""
    email = OutboundMessage.objects.get(appointment=appointment, channel="email")
    now = timezone.now()
    make_due(email, now)
    messages_dispatch_due(now=now)
    body = mail.outbox[-1].body
    return re.search(re.escape(SITE) + r"(/m/[^\s]+/)", body)[1]


@pytest.fixture
def visit(clinic_setup, front_desk, messaging):
    clinic = ClinicSettings.load()
    clinic.phone = "+1 212 555 0100"
    clinic.save()
    return book(clinic_setup, front_desk, consenting_patient(), at(future_day(weekday=1), 12, 30))


def status(appointment):
    return Appointment.objects.get(pk=appointment.pk).status


def test_opening_the_link_changes_nothing_until_the_patient_confirms(client, visit):
    path = sent_link(visit)
    page = client.get(path)
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    assert "noindex" in page["X-Robots-Tag"]
    content = page.content.decode()
    assert "12:30" in content and "Park Avenue" in content
    assert "Treatment session" not in content and "Pia" not in content
    assert status(visit) == "booked"

    done = client.post(path + "confirm/")
    assert done.status_code == 200
    assert "your appointment is confirmed" in done.content.decode()
    assert status(visit) == "confirmed"
    link = MessageLink.objects.get(message__appointment=visit)
    assert link.used_for == "confirm" and link.used_at is not None
    assert AuditEvent.objects.filter(
        action="message_link.confirmed", patient_id=visit.patient_id
    ).exists()


def test_a_used_link_shows_a_friendly_page_and_changes_nothing(client, visit):
    path = sent_link(visit)
    client.post(path + "confirm/")
    for method, url in (("get", path), ("post", path + "cancel/"), ("post", path + "confirm/")):
        again = getattr(client, method)(url)
        assert again.status_code == 410
        text = again.content.decode()
        assert "This link has already been used." in text
        assert "You confirmed this appointment on" in text
        assert "Nothing has been changed." in text
    assert status(visit) == "confirmed"


def test_a_tampered_link_is_not_valid(client, visit):
    path = sent_link(visit)
    token = path.split("/")[2]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for url in (f"/m/{forged}/", f"/m/{forged}/confirm/", "/m/not-a-token/"):
        response = client.post(url) if url.endswith("confirm/") else client.get(url)
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    assert status(visit) == "booked"


def test_an_expired_link_changes_nothing(client, visit):
    path = sent_link(visit)
    MessageLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(path + "confirm/")
    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()
    assert status(visit) == "booked"


def test_the_link_of_a_moved_appointment_no_longer_works(client, visit, front_desk):
    path = sent_link(visit)
    appointment_reschedule(
        actor=front_desk, appointment=visit, starts_at=visit.starts_at + timedelta(hours=2)
    )
    response = client.post(path + "confirm/")
    assert response.status_code == 410
    assert "moved since this message was sent" in response.content.decode()
    assert status(visit) == "booked"


def test_the_patient_cancels_from_the_link_and_front_desk_is_told(client, visit):
    path = sent_link(visit)
    form = client.get(path + "cancel/")
    assert "Cancel my appointment" in form.content.decode()
    done = client.post(path + "cancel/", {"reason": "Travelling"})
    assert done.status_code == 200
    assert "Your appointment is cancelled" in done.content.decode()
    assert status(visit) == "cancelled"
    request = PortalRequest.objects.get(appointment=visit)
    assert (request.kind, request.message) == ("cancelled", "Travelling")
    assert not OutboundMessage.objects.filter(appointment=visit, status="scheduled").exists()


def test_inside_the_cancellation_window_the_link_asks_to_call_and_changes_nothing(
    client, clinic_setup, front_desk, messaging
):
    clinic = ClinicSettings.load()
    clinic.phone = "+1 212 555 0100"
    clinic.save()
    soon = book(
        clinic_setup,
        front_desk,
        consenting_patient(),
        timezone.now().replace(microsecond=0) + timedelta(hours=30),
        allow_outside_hours=True,
    )
    sms = OutboundMessage.objects.get(appointment=soon, hours_before=24)
    now = timezone.now()
    OutboundMessage.objects.filter(pk=sms.pk).update(channel="email")  # read it from the email
    make_due(sms, now)
    messages_dispatch_due(now=now)
    path = re.search(re.escape(SITE) + r"(/m/[^\s]+/)", mail.outbox[-1].body)[1]
    ClinicSettings.objects.update(cancellation_window_hours=48)
    page = client.get(path + "cancel/")
    assert "call the clinic on +1 212 555 0100" in page.content.decode()
    refused = client.post(path + "cancel/", {"reason": "Busy"})
    assert refused.status_code == 409
    assert "cannot be cancelled online less than 48 hours" in refused.content.decode()
    assert status(soon) == "booked"
    assert MessageLink.objects.get(message=sms).used_at is None
    # Confirming is still possible with the same link.
    assert client.post(path + "confirm/").status_code == 200
    assert status(soon) == "confirmed"


def test_the_link_page_speaks_the_patients_language(client, clinic_setup, front_desk, messaging):
    patient = consenting_patient(preferred_language="fr")
    visit = book(clinic_setup, front_desk, patient, at(future_day(weekday=1), 12, 30))
    page = client.get(sent_link(visit))
    assert '<html lang="fr">' in page.content.decode()


# -- the side-effects question --------------------------------------------------------------------


@pytest.fixture
def follow_up(clinic_setup, front_desk, practitioner_user, messaging):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    visit = book(clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True)
    appointment_check_in(actor=front_desk, appointment=visit)
    appointment_start(actor=practitioner_user, appointment=visit)
    appointment_complete(actor=practitioner_user, appointment=visit)
    question = OutboundMessage.objects.get(appointment=visit, kind="follow_up")
    now = timezone.now()
    make_due(question, now)
    messages_dispatch_due(now=now)
    question.refresh_from_db()
    assert question.status == "sent"
    path = re.search(re.escape(SITE) + r"(/m/[^\s]+/)", mail.outbox[-1].body)[1]
    return visit, question, path


def test_the_patient_reports_side_effects_and_the_answer_lands_on_the_record(
    client, follow_up, client_for, practitioner_user
):
    visit, question, path = follow_up
    page = client.get(path)
    assert "have you noticed any side effects?" in page.content.decode()
    missing = client.post(path, {"has_side_effects": "yes", "details": ""})
    assert missing.status_code == 400
    assert not FollowUpAnswer.objects.exists()
    done = client.post(path, {"has_side_effects": "yes", "details": "Bruise on the left thigh"})
    assert done.status_code == 200
    answer = FollowUpAnswer.objects.get()
    assert (answer.patient_id, answer.appointment_id, answer.message_id) == (
        visit.patient_id,
        visit.pk,
        question.pk,
    )
    assert answer.has_side_effects and answer.details == "Bruise on the left thigh"
    again = client.post(path, {"has_side_effects": "no"})
    assert again.status_code == 410
    assert FollowUpAnswer.objects.count() == 1


def test_a_reminder_link_cannot_answer_and_a_follow_up_link_cannot_confirm(client, follow_up):
    _visit, _question, path = follow_up
    assert client.post(path + "confirm/").status_code == 404
    assert not FollowUpAnswer.objects.exists()


def test_the_answer_shows_on_the_chart_for_the_practitioner_not_for_front_desk(
    client_for, follow_up, practitioner_user, front_desk, client
):
    visit, _question, path = follow_up
    client.post(path, {"has_side_effects": "yes", "details": "Bruise on the left thigh"})
    client.logout()
    chart = f"/patients/{visit.patient_id}/"
    as_practitioner = client_for(practitioner_user).get(chart).content.decode()
    assert "Bruise on the left thigh" in as_practitioner
    assert "reports side effects" in as_practitioner
    as_desk = client_for(front_desk).get(chart).content.decode()
    assert "Bruise on the left thigh" not in as_desk
    assert 'data-testid="chart-messages"' in as_desk


def test_dates_on_link_pages_are_in_the_locations_zone(client, visit):
    page = client.get(sent_link(visit)).content.decode()
    local = visit.starts_at.astimezone(NEW_YORK)
    assert f"{local:%H:%M}" in page
