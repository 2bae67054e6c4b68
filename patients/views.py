from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinic import audit
from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.permissions import portal_required, staff_required

from . import selectors, services
from .chart_panels import chart_panels
from .forms import (
    AlertAcknowledgeForm,
    AllergyFormSet,
    ConsentSignForm,
    ConsentWithdrawForm,
    IntakeAcceptForm,
    MedicalHistoryForm,
    MedicationFormSet,
    PatientForm,
    PortalDetailsForm,
    filled_rows,
)
from .models import ConsentTemplate, MedicalHistory


def staff_with(perm):
    """Staff pages needing a model permission: 403 for anyone else, patients included."""

    def decorator(view):
        return staff_required(permission_required(perm, raise_exception=True)(view))

    return decorator


@require_http_methods(["GET"])
@staff_with("patients.view_patient")
def patient_list(request):
    query = request.GET.get("q", "").strip()
    patients = selectors.patient_search(request.user, query)
    page = Paginator(patients, 25).get_page(request.GET.get("page"))
    context = {"page": page, "query": query}
    if request.htmx:
        return render(request, "patients/partials/patient_rows.html", context)
    return render(request, "patients/list.html", context)


@require_http_methods(["GET", "POST"])
@staff_with("patients.add_patient")
def patient_create(request):
    form = PatientForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                actor=request.user,
                data=form.cleaned_data,
                force=request.POST.get("force") == "1",
            )
        except services.DuplicatePatientError as exc:
            duplicates = exc.candidates
        except (ApplicationError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": patient.full_name})
            return redirect("patients:chart", pk=patient.pk)
    status = 409 if duplicates else (400 if form.errors else 200)
    return render(
        request,
        "patients/form.html",
        {"form": form, "duplicates": duplicates, "creating": True},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_with("patients.change_patient")
def patient_edit(request, pk):
    patient = selectors.patient_get_for_user(request.user, pk)
    form = PatientForm(
        request.POST or None,
        instance=selectors.patient_get_for_user(request.user, pk, audit_read=False),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(actor=request.user, patient=patient, data=form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Details saved."))
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET"])
@staff_with("patients.view_patient")
def patient_chart(request, pk):
    patient = selectors.patient_get_for_user(request.user, pk, audit_read=False)
    chart = selectors.patient_chart(request.user, patient)
    return render(
        request,
        "patients/chart.html",
        {
            **chart,
            "ack_form": AlertAcknowledgeForm(),
            "withdraw_form": ConsentWithdrawForm(),
            "panels": chart_panels(request.user, patient),
        },
    )


def _history_forms(request, initial_history=None):
    """The questionnaire with its allergy and medication rows, prefilled from a version."""
    if request.method == "POST":
        return (
            MedicalHistoryForm(request.POST),
            AllergyFormSet(request.POST, prefix="allergies"),
            MedicationFormSet(request.POST, prefix="medications"),
        )
    history = initial_history
    return (
        MedicalHistoryForm(instance=history) if history else MedicalHistoryForm(),
        AllergyFormSet(
            prefix="allergies",
            initial=[
                {"substance": a.substance, "reaction": a.reaction, "severity": a.severity}
                for a in (history.allergies.all() if history else [])
            ],
        ),
        MedicationFormSet(
            prefix="medications",
            initial=[
                {
                    "name": m.name,
                    "dose": m.dose,
                    "is_anticoagulant": m.is_anticoagulant,
                    "is_antiplatelet": m.is_antiplatelet,
                }
                for m in (history.medications.all() if history else [])
            ],
        ),
    )


def _submit_history(request, patient, forms, source):
    form, allergies, medications = forms
    if not (form.is_valid() and allergies.is_valid() and medications.is_valid()):
        return None
    listed = filled_rows(allergies, "substance")
    # An empty allergy list must be a real answer, not a skipped section.
    if not listed and not form.cleaned_data.get("no_known_allergies"):
        form.add_error("no_known_allergies", _("List the allergies, or tick “No known allergies”."))
        return None
    if listed and form.cleaned_data.get("no_known_allergies"):
        form.add_error(
            "no_known_allergies", _("Allergies are listed: untick “No known allergies”.")
        )
        return None
    try:
        return services.medical_history_submit(
            actor=request.user,
            patient=patient,
            data=form.cleaned_data,
            allergies=listed,
            medications=filled_rows(medications, "name"),
            source=source,
        )
    except (ApplicationError, ValidationError) as exc:
        add_service_error(form, exc)
        return None


def _render_history_form(request, template, patient, forms):
    """The questionnaire page; after a refused POST it is shown again with the entries."""
    form, allergies, medications = forms
    posted = request.method == "POST"
    return render(
        request,
        template,
        {
            "patient": patient,
            "form": form,
            "allergies": allergies,
            "medications": medications,
            "formsets_invalid": posted and (not allergies.is_valid() or not medications.is_valid()),
        },
        status=400 if posted else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_with("patients.change_medical_history")
def history_new(request, pk):
    patient = selectors.patient_get_for_user(request.user, pk)
    forms = _history_forms(request, selectors.current_history(patient))
    if request.method == "POST":
        history = _submit_history(request, patient, forms, MedicalHistory.Source.CLINIC)
        if history:
            messages.success(
                request, _("Medical history saved as version %(v)s.") % {"v": history.version}
            )
            return redirect("patients:chart", pk=patient.pk)
    return _render_history_form(request, "patients/history_form.html", patient, forms)


@require_http_methods(["GET"])
@staff_with("patients.view_medical_history")
def history_detail(request, pk, version):
    patient = selectors.patient_get_for_user(request.user, pk, audit_read=False)
    history = selectors.medical_history_get(request.user, patient, version)
    return render(request, "patients/history_detail.html", {"patient": patient, "history": history})


@require_POST
@staff_with("patients.change_medical_history")
def alert_acknowledge(request, pk):
    patient = selectors.patient_get_for_user(request.user, pk, audit_read=False)
    form = AlertAcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            services.alert_acknowledge(actor=request.user, patient=patient, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Alert acknowledged."))
    else:
        messages.error(request, _("Write a note saying how the alert is handled."))
    return redirect("patients:chart", pk=patient.pk)


def _consent_sign_page(request, patient, template, via, done_url):
    form = ConsentSignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_sign(
                actor=request.user,
                patient=patient,
                template=template,
                signed_name=form.cleaned_data["signed_name"],
                signature=form.cleaned_data["signature"],
                via=via,
                request=request,
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request, _("Thank you: “%(title)s” is signed.") % {"title": template.title}
            )
            return redirect(done_url)
    return render(
        request,
        "patients/consent_sign.html",
        {"patient": patient, "template": template, "form": form, "via": via},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_with("patients.view_patient")
def consent_sign_desk(request, pk, template_pk):
    patient = selectors.patient_get_for_user(request.user, pk, audit_read=False)
    template = get_object_or_404(ConsentTemplate, pk=template_pk, is_current=True)
    return _consent_sign_page(
        request, patient, template, "desk", done_url=f"/patients/{patient.pk}/#consents"
    )


@require_POST
@staff_with("patients.change_patient")
def consent_withdraw(request, signature_pk):
    """Front desk records that the patient withdrew a consent, with the reason they gave."""
    signature = selectors.consent_signature_get_for_user(request.user, signature_pk)
    form = ConsentWithdrawForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["reason"].strip():
        messages.error(request, _("Say why the consent is withdrawn (what the patient said)."))
        return redirect("patients:chart", pk=signature.patient_id)
    try:
        services.consent_withdraw(
            actor=request.user, signature=signature, reason=form.cleaned_data.get("reason", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Consent withdrawn. The signed copy is kept."))
    return redirect("patients:chart", pk=signature.patient_id)


@require_http_methods(["GET"])
def consent_signature_image(request, signature_pk):
    """The drawn signature, for staff or the patient who signed; never cached."""
    signature = selectors.consent_signature_get_for_user(request.user, signature_pk)
    audit.record(
        actor=request.user,
        action="consent.signature_viewed",
        target=signature,
        patient_id=signature.patient_id,
    )
    response = HttpResponse(bytes(signature.signature_png), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@staff_with("patients.change_patient")
def intake_invite(request, pk):
    patient = selectors.patient_get_for_user(request.user, pk, audit_read=False)
    try:
        invitation = services.intake_invitation_send(
            actor=request.user, patient=patient, base_url=request.build_absolute_uri("/")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Intake invitation sent to %(email)s.") % {"email": invitation.email}
        )
    return redirect("patients:chart", pk=patient.pk)


@login_not_required
@require_http_methods(["GET", "POST"])
def intake_accept(request, token):
    """Public: the link from the invitation email. Sets the portal password, logs in."""
    try:
        invitation = services.intake_invitation_from_token(token)
    except ApplicationError as exc:
        return render(request, "patients/intake_invalid.html", {"reason": exc.message}, status=410)
    form = IntakeAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.intake_invitation_accept(
                token=token, password=form.cleaned_data["password1"]
            )
        except ApplicationError as exc:
            if exc.field == "password":
                form.add_error("password1", exc.message)
            else:
                return render(
                    request, "patients/intake_invalid.html", {"reason": exc.message}, status=410
                )
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("Your account is ready. Now a few questions about your health.")
            )
            return redirect("patients:portal_history")
    return render(
        request,
        "patients/intake_accept.html",
        {"invitation": invitation, "form": form},
        status=400 if form.errors else 200,
    )


# The patient's own pages in the portal.


def _portal_next_step(patient):
    if selectors.current_history(patient) is None:
        return "patients:portal_history"
    return "patients:portal_consents"


@require_http_methods(["GET", "POST"])
@portal_required
def portal_history(request):
    patient = selectors.patient_for_portal_user(request.user)
    forms = _history_forms(request, selectors.current_history(patient))
    if request.method == "POST":
        if _submit_history(request, patient, forms, MedicalHistory.Source.PORTAL):
            messages.success(request, _("Thank you, your health questionnaire is saved."))
            return redirect("patients:portal_consents")
    else:
        audit.record(
            actor=request.user,
            action="medical_history.viewed",
            target=patient,
            patient_id=patient.pk,
        )
    return _render_history_form(request, "patients/portal_history.html", patient, forms)


@require_http_methods(["GET"])
@portal_required
def portal_consents(request):
    patient = selectors.patient_for_portal_user(request.user)
    status = selectors.consent_status(patient)
    audit.record(
        actor=request.user, action="consent.list_viewed", target=patient, patient_id=patient.pk
    )
    return render(
        request,
        "patients/portal_consents.html",
        {"patient": patient, "consents": status, "withdraw_form": ConsentWithdrawForm()},
    )


@require_http_methods(["GET", "POST"])
@portal_required
def portal_consent_sign(request, template_pk):
    patient = selectors.patient_for_portal_user(request.user)
    template = get_object_or_404(ConsentTemplate, pk=template_pk, is_current=True)
    return _consent_sign_page(request, patient, template, "portal", done_url="/portal/me/consents/")


@require_POST
@portal_required
def portal_consent_withdraw(request, signature_pk):
    signature = selectors.consent_signature_get_for_user(request.user, signature_pk)
    form = ConsentWithdrawForm(request.POST)
    form.is_valid()
    try:
        services.consent_withdraw(
            actor=request.user, signature=signature, reason=form.cleaned_data.get("reason", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your consent is withdrawn."))
    return redirect("patients:portal_consents")


@require_http_methods(["GET", "POST"])
@portal_required
def portal_details(request):
    patient = selectors.patient_for_portal_user(request.user)
    form = PortalDetailsForm(
        request.POST or None, instance=selectors.patient_for_portal_user(request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(
                actor=request.user,
                patient=patient,
                data=form.cleaned_data,
                allowed_fields=services.PORTAL_EDITABLE_FIELDS,
            )
        except (ApplicationError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Your details are saved."))
            return redirect("patients:portal_details")
    elif request.method == "GET":
        audit.record(
            actor=request.user, action="patient.viewed", target=patient, patient_id=patient.pk
        )
    return render(
        request,
        "patients/portal_details.html",
        {"form": form, "patient": patient},
        status=400 if form.errors else 200,
    )


def portal_intake_status(request):
    """Context for the portal home: what the patient still has to do before their visit."""
    try:
        patient = selectors.patient_for_portal_user(request.user)
    except Http404:
        return None
    consents = selectors.consent_status(patient)
    return {
        "patient": patient,
        "history_done": selectors.current_history(patient) is not None,
        "unsigned": [t for t, s in consents["current"] if s is None and t.required_for_intake],
    }
