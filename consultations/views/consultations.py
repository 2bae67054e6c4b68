"""The consultation record pages: one tablet-friendly page per consultation, autosaved while
the practitioner types, read-only once signed. Practitioners and managers only."""

import contextlib
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.areas import BodyArea
from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.models import ClinicSettings
from clinic.permissions import clinician_required
from clinic.roles import Role
from consultations.forms.consultations import (
    ASSESSMENTS_PREFIX,
    AddAreaForm,
    AddendumForm,
    AssessmentFormSet,
    ConsultationForm,
    PlanForm,
    assessment_initial,
)
from consultations.models import Consultation
from consultations.selectors.consultations import (
    consultation_get_for_user,
    consultations_of_patient,
)
from consultations.selectors.photos import photos_of_consultation
from consultations.services import consultations as services
from patients.forms import AlertAcknowledgeForm
from patients.selectors import current_alerts, current_history, patient_get_for_user
from patients.services import alert_acknowledge
from sessions.models import AppointmentStatus, AppointmentType
from sessions.selectors import appointment_get_for_user
from sessions.services import appointment_start

# Filled in by the practitioner (the interval has a default): the plan has been started.
PLAN_STARTED_BY = ["areas", "product", "appointment_type", "planned_sessions", "price_per_session"]
ADDED_ROW = "added"  # the row of the "add area" controls, on a submit without JavaScript
_ROW_ERROR = re.compile(r"assessments\.(\d+)\.(\w+)")


class DraftForms:
    """Everything the draft page posts: the record, one row per area, the "add area"
    controls and the plan."""

    def __init__(self, consultation, data=None):
        plan = getattr(consultation, "plan", None)
        initial = None if data is not None else assessment_initial(consultation)
        self.main = ConsultationForm(data, instance=consultation)
        self.assessments = AssessmentFormSet(data, initial=initial, prefix=ASSESSMENTS_PREFIX)
        taken = [a.area for a in consultation.assessments.all()]
        self.add_area = AddAreaForm(data, taken=taken)
        self.plan = PlanForm(data, plan=plan)
        self.rows = []

    @property
    def is_bound(self):
        return self.main.is_bound

    def is_valid(self):
        results = [f.is_valid() for f in (self.main, self.assessments, self.add_area, self.plan)]
        return all(results)

    def collect_rows(self, *, with_added):
        """What goes to the service, remembering which row each item came from."""
        self.rows = self.assessments.assessments()
        added = self.add_area.cleaned_data
        if with_added and added.get("add_area") and added.get("add_condition"):
            self.rows.append(
                (ADDED_ROW, {"area": added["add_area"], "condition": added["add_condition"]})
            )
        return [values for _index, values in self.rows]

    def place_error(self, exc, form=None):
        """Show a service error at the field it names (``assessments.2.circumference_cm`` is
        the circumference of the third row sent)."""
        match = _ROW_ERROR.fullmatch(getattr(exc, "field", None) or "")
        if match and int(match[1]) < len(self.rows):
            index, name = self.rows[int(match[1])][0], match[2]
            if index == ADDED_ROW:
                self.add_area.add_error("add_area" if name == "area" else None, exc.message)
            else:
                row = self.assessments.forms[index]
                row.add_error(name if name in row.fields else None, exc.message)
            return
        add_service_error(form or self.main, exc)

    def errors(self):
        """Every error as (input name or None, message), in page order."""
        found = []
        for form in self._forms():
            where = getattr(form, "area_label", None)
            for field, messages_ in form.errors.items():
                name = None if field == "__all__" else form.add_prefix(field)
                label = [where, form.fields[field].label if name else None]
                prefix = " · ".join(str(p) for p in label if p)
                found.extend((name, f"{prefix}: {m}" if prefix else str(m)) for m in messages_)
        found.extend((None, str(m)) for m in self.assessments.non_form_errors())
        return found

    def _forms(self):
        return [self.main, *self.assessments.forms, self.add_area, self.plan]


def _save_posted(request, consultation, forms, *, with_added):
    """Save the draft (and the plan once it is complete). Returns "saved", "plan_incomplete"
    or None when something was refused (the errors are on the forms)."""
    if not forms.is_valid():
        return None
    assessments = forms.collect_rows(with_added=with_added)
    try:
        services.consultation_save_draft(
            actor=request.user,
            consultation=consultation,
            data=forms.main.draft_data(),
            assessments=assessments,
        )
    except (ApplicationError, ValidationError) as exc:
        forms.place_error(exc)
        return None
    if not forms.plan.is_complete():
        started = any(forms.plan.cleaned_data[f] for f in PLAN_STARTED_BY)
        return "plan_incomplete" if started else "saved"
    try:
        services.plan_save(
            actor=request.user, consultation=consultation, data=forms.plan.plan_data()
        )
    except (ApplicationError, ValidationError) as exc:
        forms.place_error(exc, form=forms.plan)
        return None
    return "saved"


def _zone(consultation):
    appointment = consultation.appointment
    if appointment is not None and appointment.location_id:
        return appointment.location.zone
    return timezone.get_current_timezone()


def _page(request, consultation, forms=None, status=200):
    patient = consultation.patient
    history = current_history(patient)
    context = {
        "consultation": consultation,
        "patient": patient,
        "history": history,
        "alerts": current_alerts(patient, history),
        "zone": _zone(consultation),
        "currency": ClinicSettings.load().currency,
        "plan": getattr(consultation, "plan", None),
        "can_book": request.user.role in (Role.MANAGER, Role.FRONT_DESK, Role.PRACTITIONER),
        "photos": photos_of_consultation(request.user, consultation),
    }
    if consultation.is_signed:
        context["addendum_form"] = AddendumForm()
        plan = context["plan"]
        context["plan_areas"] = [BodyArea(a).label for a in plan.areas] if plan else []
        context["book_course_url"] = _book_course_url(consultation, plan)
    else:
        context["forms"] = forms or DraftForms(consultation)
        context["blockers"] = services.sign_blockers(consultation)
        context["ack_form"] = AlertAcknowledgeForm()
    return render(request, "consultations/record.html", context, status=status)


def _book_course_url(consultation, plan):
    """Front desk's "Book course" page, pre-filled from the plan."""
    params = [("patient", consultation.patient_id), ("practitioner", consultation.practitioner_id)]
    if plan is not None:
        params += [
            ("type", plan.appointment_type_id),
            ("sessions", plan.planned_sessions),
            ("interval_days", plan.interval_days),
            *(("areas", area) for area in plan.areas),
        ]
    return f"{reverse('treatment_sessions:course_new')}?{urlencode(params)}"


def _detail_url(consultation, anchor=""):
    return reverse("consultation_detail", args=[consultation.pk]) + anchor


def _save_before(request, consultation):
    """Buttons inside the draft form post the whole form: save it first. Returns the forms
    when saving was refused, so the page shows the errors with everything typed kept."""
    if consultation.is_signed or f"{ASSESSMENTS_PREFIX}-TOTAL_FORMS" not in request.POST:
        return None
    forms = DraftForms(consultation, request.POST)
    if _save_posted(request, consultation, forms, with_added=True) is None:
        return forms
    return None


@require_POST
@clinician_required
def consultation_start_for_appointment(request, appointment_id):
    """From "my day": open the consultation of this appointment (starting it the first time)
    and take the patient in if they are checked in."""
    appointment = appointment_get_for_user(request.user, appointment_id)
    if appointment.appointment_type.kind != AppointmentType.Kind.CONSULTATION:
        messages.error(request, _("This appointment is not a consultation."))
        return redirect("treatment_sessions:my_day")
    try:
        consultation = services.consultation_start(
            actor=request.user, patient=appointment.patient, appointment=appointment
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("treatment_sessions:my_day")
    if appointment.status == AppointmentStatus.CHECKED_IN:
        # If someone else changed it meanwhile, the record is open either way.
        with contextlib.suppress(ApplicationError):
            appointment_start(actor=request.user, appointment=appointment)
    return redirect("consultation_detail", pk=consultation.pk)


@require_GET
@clinician_required
def consultation_patient_list(request, patient_id):
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    consultations = consultations_of_patient(request.user, patient)
    return render(
        request,
        "consultations/record_list.html",
        {"patient": patient, "consultations": consultations},
    )


@require_http_methods(["GET", "POST"])
@clinician_required
def consultation_new(request, patient_id):
    """A consultation without an appointment (e.g. a walk-in)."""
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    if request.method == "GET":
        return redirect("consultation_patient_list", patient_id=patient.pk)
    try:
        consultation = services.consultation_start(actor=request.user, patient=patient)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("consultation_patient_list", patient_id=patient.pk)
    return redirect("consultation_detail", pk=consultation.pk)


@require_http_methods(["GET", "POST"])
@clinician_required
def consultation_detail(request, pk):
    """The record page. A plain submit (no JavaScript) saves like the autosave does."""
    consultation = consultation_get_for_user(request.user, pk, audit_read=request.method == "GET")
    if request.method == "GET":
        return _page(request, consultation)
    if consultation.is_signed:
        messages.error(request, _("This consultation is signed; add an addendum instead."))
        return redirect(_detail_url(consultation))
    forms = DraftForms(consultation, request.POST)
    if _save_posted(request, consultation, forms, with_added=True) is None:
        return _page(request, consultation, forms, status=400)
    messages.success(request, _("Saved."))
    anchor = "#areas" if request.POST.get("action") == "add_area" else ""
    return redirect(_detail_url(consultation, anchor))


@require_POST
@clinician_required
def consultation_autosave(request, pk):
    """Called by htmx while the practitioner types: saves and answers with a small status,
    never with the form, so nothing typed is overwritten."""
    consultation = consultation_get_for_user(request.user, pk, audit_read=False)
    context = {"consultation": consultation}
    if consultation.is_signed:
        context.update(state="signed")
        return render(
            request, "consultations/partials/record_save_status.html", context, status=409
        )
    forms = DraftForms(consultation, request.POST)
    state = _save_posted(request, consultation, forms, with_added=False)
    if state is None:
        context.update(state="error", errors=forms.errors())
        return render(
            request, "consultations/partials/record_save_status.html", context, status=400
        )
    context.update(
        state=state,
        saved_at=timezone.now(),
        zone=_zone(consultation),
        # Fresh from the database: the prefetched areas are from before this save.
        blockers=services.sign_blockers(Consultation.objects.get(pk=consultation.pk)),
    )
    return render(request, "consultations/partials/record_save_status.html", context)


@require_POST
@clinician_required
def consultation_review_history(request, pk):
    consultation = consultation_get_for_user(request.user, pk, audit_read=False)
    refused = _save_before(request, consultation)
    if refused is not None:
        return _page(request, consultation, refused, status=400)
    try:
        consultation = services.consultation_review_history(
            actor=request.user, consultation=consultation
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Medical history version %(v)s reviewed.")
            % {"v": consultation.medical_history.version},
        )
    return redirect(_detail_url(consultation, "#history"))


@require_POST
@clinician_required
def consultation_alert_acknowledge(request, pk):
    """The patient's alert acknowledgement (the chart's flow), back to this page after."""
    consultation = consultation_get_for_user(request.user, pk, audit_read=False)
    form = AlertAcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a note saying how the alert is handled."))
    else:
        try:
            alert_acknowledge(actor=request.user, patient=consultation.patient, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Alert acknowledged."))
    return redirect(_detail_url(consultation, "#alerts"))


@require_POST
@clinician_required
def consultation_sign(request, pk):
    consultation = consultation_get_for_user(request.user, pk, audit_read=False)
    refused = _save_before(request, consultation)
    if refused is not None:
        return _page(request, consultation, refused, status=400)
    try:
        services.consultation_sign(actor=request.user, consultation=consultation)
    except ApplicationError as exc:
        for blocker in exc.extra.get("blockers") or [exc.message]:
            messages.error(request, blocker)
        return redirect(_detail_url(consultation, "#sign"))
    messages.success(request, _("Consultation signed."))
    return redirect(_detail_url(consultation))


@require_POST
@clinician_required
def consultation_addendum_add(request, pk):
    consultation = consultation_get_for_user(request.user, pk, audit_read=False)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the addendum."))
        return redirect(_detail_url(consultation, "#addenda"))
    try:
        services.addendum_add(
            actor=request.user, consultation=consultation, text=form.cleaned_data["text"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Addendum added."))
    return redirect(_detail_url(consultation, "#addenda"))
