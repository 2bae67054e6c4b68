"""The consultation record pages: who may open them, opening from "my day", the autosave (a
status, never the form), the plain submit, signing and the read-only signed record."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import AuditEvent
from consultations.models import Addendum, AreaAssessment, Consultation, TreatmentPlan
from consultations.services import consultations as services
from patients.models import AlertAcknowledgement, Allergy
from patients.selectors import current_history
from sessions.models import Appointment
from tests.fixtures.clinical import book_consultation
from tests.fixtures.forms import FormFields

pytestmark = pytest.mark.django_db


# --- the page's form, as a browser would post it ---------------------------------------------


def form_of(client, consultation):
    page = client.get(f"/consultations/{consultation.pk}/")
    assert page.status_code == 200
    parser = FormFields("consultation-form")
    parser.feed(page.content.decode())
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def with_rows(data, *rows):
    """The form with these area rows instead of those shown."""
    data = {k: v for k, v in data.items() if not k.startswith("assessments-")}
    data.update(
        {
            "assessments-TOTAL_FORMS": [str(len(rows))],
            "assessments-INITIAL_FORMS": ["0"],
            "assessments-MIN_NUM_FORMS": ["0"],
            "assessments-MAX_NUM_FORMS": ["1000"],
        }
    )
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"assessments-{index}-{key}"] = [str(value)]
    return data


# --- scene ------------------------------------------------------------------------------------


@pytest.fixture
def consultation(practitioner_user, consult_appointment):
    return services.consultation_start(
        actor=practitioner_user,
        patient=consult_appointment.patient,
        appointment=consult_appointment,
    )


def sign(actor, consultation, *rows):
    services.consultation_save_draft(
        actor=actor,
        consultation=consultation,
        data={"complaint": "Cellulite on the thighs"},
        assessments=list(rows) or [{"area": "outer_thighs", "condition": "cellulite"}],
    )
    services.consultation_review_history(actor=actor, consultation=consultation)
    return services.consultation_sign(actor=actor, consultation=consultation)


PAGES = [
    ("get", "/consultations/{c}/"),
    ("post", "/consultations/{c}/"),
    ("post", "/consultations/{c}/autosave/"),
    ("post", "/consultations/{c}/review-history/"),
    ("post", "/consultations/{c}/alerts/acknowledge/"),
    ("post", "/consultations/{c}/sign/"),
    ("post", "/consultations/{c}/addenda/"),
    ("get", "/patients/{p}/consultations/"),
    ("post", "/patients/{p}/consultations/new/"),
    ("post", "/appointments/{a}/consultation/"),
]


def _url(template, consultation):
    return template.format(
        c=consultation.pk, p=consultation.patient_id, a=consultation.appointment_id
    )


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["front_desk", "patient_user"])
@pytest.mark.parametrize(("method", "url"), PAGES)
def test_front_desk_and_patients_are_refused_every_consultation_url(
    request, client_for, consultation, role, method, url
):
    client = client_for(request.getfixturevalue(role))
    response = getattr(client, method)(_url(url, consultation))
    assert response.status_code in (403, 404)
    assert Consultation.objects.count() == 1
    assert not AuditEvent.objects.filter(action="consultation.viewed").exists()


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_visitors_are_sent_to_login(client, consultation, method, url):
    response = getattr(client, method)(_url(url, consultation))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["practitioner_user", "manager"])
def test_practitioners_and_managers_read_the_record(request, client_for, consultation, role):
    user = request.getfixturevalue(role)
    client = client_for(user)
    page = client.get(f"/consultations/{consultation.pk}/")
    assert page.status_code == 200
    assert consultation.patient.full_name in page.content.decode()
    assert AuditEvent.objects.filter(
        action="consultation.viewed", actor=user, object_id=str(consultation.pk)
    ).exists()
    listing = client.get(f"/patients/{consultation.patient_id}/consultations/")
    assert listing.status_code == 200
    assert f"/consultations/{consultation.pk}/" in listing.content.decode()


def test_unknown_consultation_is_404(client_for, practitioner_user, consultation):
    assert client_for(practitioner_user).get("/consultations/999999/").status_code == 404


# --- opening the consultation -----------------------------------------------------------------


def test_my_day_opens_the_consultation_of_a_checked_in_patient(
    client_for, practitioner_user, consult_appointment
):
    client = client_for(practitioner_user)
    page = client.get("/my-day/").content.decode()
    assert f'action="/appointments/{consult_appointment.pk}/consultation/"' in page
    response = client.post(f"/appointments/{consult_appointment.pk}/consultation/")
    consultation = Consultation.objects.get(appointment=consult_appointment)
    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{consultation.pk}/"
    assert Appointment.objects.get(pk=consult_appointment.pk).status == "in_progress"
    # Again (in progress now): the same record.
    assert client.get("/my-day/").content.decode().count('data-testid="open-consultation"') == 1
    again = client.post(f"/appointments/{consult_appointment.pk}/consultation/")
    assert again["Location"] == f"/consultations/{consultation.pk}/"
    assert Consultation.objects.count() == 1


def test_my_day_offers_no_consultation_for_a_treatment_session(
    clinic_setup, client_for, practitioner_user, front_desk, consult_patient
):
    session = book_consultation(clinic_setup, front_desk, consult_patient, clinic_setup["type"])
    client = client_for(practitioner_user)
    assert 'data-testid="open-consultation"' not in client.get("/my-day/").content.decode()
    response = client.post(f"/appointments/{session.pk}/consultation/")
    assert response.status_code == 302 and response["Location"] == "/my-day/"
    assert not Consultation.objects.exists()


def test_a_consultation_without_appointment_from_the_patients_list(
    clinic_setup, client_for, practitioner_user, consult_patient
):
    client = client_for(practitioner_user)
    response = client.post(f"/patients/{consult_patient.pk}/consultations/new/")
    consultation = Consultation.objects.get(patient=consult_patient)
    assert response["Location"] == f"/consultations/{consultation.pk}/"
    assert consultation.appointment is None


def test_a_manager_who_is_not_a_practitioner_cannot_start_one(client_for, manager, consult_patient):
    response = client_for(manager).post(f"/patients/{consult_patient.pk}/consultations/new/")
    assert response.status_code == 302
    assert not Consultation.objects.exists()


# --- the draft page and its autosave ----------------------------------------------------------


def test_draft_page_shows_review_button_alerts_and_blockers(
    client_for, practitioner_user, consultation
):
    Allergy.objects.create(
        history=current_history(consultation.patient), substance="Lidocaine", severity="severe"
    )
    page = client_for(practitioner_user).get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'data-testid="alerts-banner"' in page and "Lidocaine" in page
    assert 'data-testid="alert-ack-form"' in page
    assert "I have reviewed the current history (version 1)" in page
    assert "Review the current medical history." in page
    # Each blocker links to the section that resolves it.
    blockers = page[page.index('id="sign-blockers"') :]
    blockers = blockers[: blockers.index("</div>")]
    assert 'href="#alerts"' in blockers and 'href="#areas"' in blockers
    assert f'hx-post="/consultations/{consultation.pk}/autosave/"' in page
    assert 'hx-trigger="change delay:800ms, keyup delay:2s"' in page


def test_autosave_saves_and_answers_with_a_status_not_the_form(
    client_for, practitioner_user, consultation
):
    client = client_for(practitioner_user)
    data = with_rows(
        form_of(client, consultation),
        {"area": "outer_thighs", "condition": "cellulite", "nurnberger_muller_grade": 2},
    )
    data["complaint"] = ["Orange-peel skin on the thighs"]
    data["explained_side_effects"] = ["on"]
    response = client.post(
        f"/consultations/{consultation.pk}/autosave/", data, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="saved"' in body and "Saved " in body
    assert 'name="complaint"' not in body  # never the form over what is being typed
    assert 'id="sign-blockers"' in body and 'hx-swap-oob="true"' in body
    assert "Assess at least one area." not in body
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.complaint == "Orange-peel skin on the thighs"
    assert saved.explained_side_effects is True
    (row,) = saved.assessments.all()
    assert (row.area, row.nurnberger_muller_grade) == ("outer_thighs", 2)


def test_autosave_error_names_the_field_and_saves_nothing(
    client_for, practitioner_user, consultation
):
    client = client_for(practitioner_user)
    data = with_rows(
        form_of(client, consultation),
        {"area": "abdomen", "condition": "localized_fat"},
        {"area": "outer_thighs", "condition": "cellulite", "circumference_cm": "5"},
    )
    data["complaint"] = ["Typed before the mistake"]
    response = client.post(
        f"/consultations/{consultation.pk}/autosave/", data, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'data-state="error"' in body
    assert 'data-field="assessments-1-circumference_cm"' in body
    assert "Outer thighs" in body
    assert 'name="complaint"' not in body
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.complaint == "" and not saved.assessments.exists()


def test_autosave_saves_the_plan_once_complete(
    client_for, practitioner_user, consultation, product, clinic_setup
):
    client = client_for(practitioner_user)
    data = form_of(client, consultation)
    data.update({"plan-areas": ["abdomen", "flanks"], "plan-product": [str(product.pk)]})
    response = client.post(f"/consultations/{consultation.pk}/autosave/", data)
    assert response.status_code == 200
    assert "the plan is saved once complete" in response.content.decode()
    assert not TreatmentPlan.objects.exists()
    data.update(
        {
            "plan-appointment_type": [str(clinic_setup["type"].pk)],
            "plan-planned_sessions": ["8"],
            "plan-interval_days": ["7"],
            "plan-price_per_session": ["120.00"],
        }
    )
    assert client.post(f"/consultations/{consultation.pk}/autosave/", data).status_code == 200
    plan = TreatmentPlan.objects.get(consultation=consultation)
    assert plan.areas == ["abdomen", "flanks"] and plan.total == Decimal("960.00")
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'data-testid="plan-total">960.00<' in page


def test_a_plain_submit_saves_adds_an_area_and_redirects(
    client_for, practitioner_user, consultation
):
    client = client_for(practitioner_user)
    data = form_of(client, consultation)
    data.update({"goals": ["Smoother thighs"], "add_area": ["knees"], "add_condition": ["laxity"]})
    data["action"] = ["add_area"]
    response = client.post(f"/consultations/{consultation.pk}/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{consultation.pk}/#areas"
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.goals == "Smoother thighs"
    assert [(a.area, a.condition) for a in saved.assessments.all()] == [("knees", "laxity")]
    # The row is on the page now and posts back unchanged; removing it deletes it.
    data = form_of(client, consultation)
    assert data["assessments-0-area"] == ["knees"]
    data["assessments-0-DELETE"] = ["on"]
    assert client.post(f"/consultations/{consultation.pk}/", data).status_code == 302
    assert not AreaAssessment.objects.exists()


def test_a_refused_plain_submit_keeps_what_was_typed(client_for, practitioner_user, consultation):
    client = client_for(practitioner_user)
    data = form_of(client, consultation)
    data.update({"complaint": ["Kept text"], "weight_kg": ["900"]})
    response = client.post(f"/consultations/{consultation.pk}/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Kept text" in page and 'value="900"' in page
    assert 'data-testid="form-error-summary"' in page and 'data-bound="1"' in page
    assert Consultation.objects.get(pk=consultation.pk).complaint == ""


def test_review_history_button_saves_the_form_too(client_for, practitioner_user, consultation):
    client = client_for(practitioner_user)
    data = form_of(client, consultation)
    data["notes"] = ["Typed just before reviewing"]
    response = client.post(f"/consultations/{consultation.pk}/review-history/", data)
    assert response["Location"] == f"/consultations/{consultation.pk}/#history"
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.notes == "Typed just before reviewing"
    assert saved.medical_history.version == 1
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert "Reviewed version 1" in page


def test_alert_acknowledged_from_the_consultation_page(client_for, practitioner_user, consultation):
    Allergy.objects.create(
        history=current_history(consultation.patient), substance="Lidocaine", severity="severe"
    )
    response = client_for(practitioner_user).post(
        f"/consultations/{consultation.pk}/alerts/acknowledge/",
        {"alert_key": "allergy:lidocaine", "note": "Lidocaine-free mixture"},
    )
    assert response["Location"] == f"/consultations/{consultation.pk}/#alerts"
    assert AlertAcknowledgement.objects.get().note == "Lidocaine-free mixture"


def test_sign_shows_the_blockers_and_signs_when_clear(client_for, practitioner_user, consultation):
    client = client_for(practitioner_user)
    response = client.post(f"/consultations/{consultation.pk}/sign/", follow=True)
    page = response.content.decode()
    assert "Review the current medical history." in page and "Assess at least one area." in page
    assert not Consultation.objects.get(pk=consultation.pk).is_signed
    services.consultation_review_history(actor=practitioner_user, consultation=consultation)
    data = with_rows(form_of(client, consultation), {"area": "abdomen", "condition": "cellulite"})
    response = client.post(f"/consultations/{consultation.pk}/sign/", data)
    assert response["Location"] == f"/consultations/{consultation.pk}/"
    assert Consultation.objects.get(pk=consultation.pk).is_signed


# --- the signed record ------------------------------------------------------------------------


def test_signed_page_is_read_only_with_addenda_and_the_course_button(
    client_for, practitioner_user, manager, consultation
):
    sign(practitioner_user, consultation)
    client = client_for(practitioner_user)
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert 'id="consultation-form"' not in page and "hx-post" not in page
    assert 'name="complaint"' not in page
    assert 'data-testid="signed-by"' in page and "Dr Pia Practitioner" in page
    assert 'data-testid="addendum-form"' in page
    assert "Cellulite on the thighs" in page
    response = client.post(
        f"/consultations/{consultation.pk}/addenda/", {"text": "Mentioned a 2019 lipo."}
    )
    assert response["Location"] == f"/consultations/{consultation.pk}/#addenda"
    assert Addendum.objects.get().text == "Mentioned a 2019 lipo."
    assert (
        "Mentioned a 2019 lipo."
        in client.get(f"/consultations/{consultation.pk}/").content.decode()
    )
    manager_page = client_for(manager).get(f"/consultations/{consultation.pk}/").content.decode()
    assert (
        f'href="/courses/new/?patient={consultation.patient_id}'
        f'&amp;practitioner={consultation.practitioner_id}"'
    ) in manager_page


def test_book_this_course_carries_the_plan_to_the_booking_page(
    client_for, practitioner_user, manager, consultation, product, clinic_setup
):
    services.plan_save(
        actor=practitioner_user,
        consultation=consultation,
        data={
            "areas": ["abdomen", "flanks"],
            "product": product,
            "appointment_type": clinic_setup["type"],
            "planned_sessions": 8,
            "interval_days": 10,
            "price_per_session": Decimal("120"),
        },
    )
    sign(practitioner_user, consultation)
    client = client_for(manager)
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    expected = (
        f"/courses/new/?patient={consultation.patient_id}"
        f"&practitioner={clinic_setup['practitioner'].pk}&type={clinic_setup['type'].pk}"
        "&sessions=8&interval_days=10&areas=abdomen&areas=flanks"
    )
    assert f'href="{expected.replace("&", "&amp;")}"' in page
    assert "960.00" in page and "Abdomen, Flanks" in page
    booking = client.get(expected)
    assert booking.status_code == 200
    form = booking.context["form"]
    assert form.initial["sessions"] == 8 and form.initial["custom_days"] == 10
    assert form.initial["appointment_type"] == clinic_setup["type"].pk
    assert form.initial["areas"] == ["abdomen", "flanks"]


def test_a_signed_record_refuses_changes(client_for, practitioner_user, consultation):
    client = client_for(practitioner_user)
    data = form_of(client, consultation)
    sign(practitioner_user, consultation)
    data["complaint"] = ["Changed after signing"]
    autosave = client.post(f"/consultations/{consultation.pk}/autosave/", data)
    assert autosave.status_code == 409 and 'data-state="signed"' in autosave.content.decode()
    assert client.post(f"/consultations/{consultation.pk}/", data).status_code == 302
    assert Consultation.objects.get(pk=consultation.pk).complaint == "Cellulite on the thighs"


def test_addendum_on_a_draft_is_refused(client_for, practitioner_user, consultation):
    client_for(practitioner_user).post(f"/consultations/{consultation.pk}/addenda/", {"text": "x"})
    assert not Addendum.objects.exists()


# --- cost -------------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_page_costs_a_fixed_number_of_queries(
    client_for, practitioner_user, consultation, django_assert_max_num_queries
):
    client = client_for(practitioner_user)
    url = f"/consultations/{consultation.pk}/"
    services.consultation_save_draft(
        actor=practitioner_user,
        consultation=consultation,
        data={},
        assessments=[{"area": "abdomen", "condition": "cellulite"}],
    )
    client.get(url)  # first request: the clinic settings row is created
    few = _queries(client, url)
    services.consultation_save_draft(
        actor=practitioner_user,
        consultation=consultation,
        data={},
        assessments=[
            {"area": area, "condition": "cellulite"}
            for area in ("abdomen", "flanks", "hips", "knees", "outer_thighs", "inner_thighs")
        ],
    )
    assert _queries(client, url) == few
    with django_assert_max_num_queries(25):
        client.get(url)
    # Signed, with addenda: also bounded.
    services.consultation_review_history(actor=practitioner_user, consultation=consultation)
    services.consultation_sign(actor=practitioner_user, consultation=consultation)
    for n in range(3):
        services.addendum_add(actor=practitioner_user, consultation=consultation, text=f"a{n}")
    with django_assert_max_num_queries(20):
        client.get(url)


def test_the_patients_list_costs_a_fixed_number_of_queries(
    clinic_setup, client_for, practitioner_user, consult_patient, django_assert_max_num_queries
):
    for _ in range(5):
        consultation = services.consultation_start(actor=practitioner_user, patient=consult_patient)
        services.consultation_save_draft(
            actor=practitioner_user,
            consultation=consultation,
            data={},
            assessments=[{"area": "abdomen", "condition": "cellulite"}],
        )
    client = client_for(practitioner_user)
    url = f"/patients/{consult_patient.pk}/consultations/"
    client.get(url)
    one_more = _queries(client, url)
    services.consultation_start(actor=practitioner_user, patient=consult_patient)
    assert _queries(client, url) == one_more
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.content.decode().count('href="/consultations/') == 6


# --- the product catalogue --------------------------------------------------------------------


def test_the_manager_keeps_the_product_catalogue_in_the_admin(client_for, manager, product):
    client = client_for(manager)
    assert product.name in client.get("/admin/consultations/product/").content.decode()
    response = client.post(
        "/admin/consultations/product/add/",
        {
            "name": "Vitamin cocktail",
            "composition": "",
            "manufacturer": "",
            "is_active": "on",
            # The lots inline's management form, as the admin page sends it.
            "lots-TOTAL_FORMS": "0",
            "lots-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert client.get(f"/admin/consultations/product/{product.pk}/delete/").status_code == 403
