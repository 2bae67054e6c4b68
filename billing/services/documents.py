"""Sending documents: the invoice as a PDF by email."""

from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from clinic import audit
from clinic.models import ClinicSettings, User


def invoice_email_send(*, invoice_id, actor_id=None):
    """Email an issued invoice, with what was paid, to the patient's address. Called by the
    ``billing.send_invoice_email`` task; a draft, a void invoice or a patient without an
    address is skipped (idempotent: sending twice sends the same document)."""
    from ..documents import invoice_document
    from ..pdf import render_pdf
    from ..selectors import invoice_detail_unscoped

    detail = invoice_detail_unscoped(invoice_id)
    invoice = detail.invoice
    if invoice.status != "issued" or not invoice.patient.email:
        return False
    clinic = ClinicSettings.load()
    doc = invoice_document(detail)
    message = EmailMessage(
        subject=_("%(clinic)s: %(title)s %(number)s")
        % {"clinic": clinic.name, "title": doc.title.lower(), "number": invoice.number},
        body=_(
            "Hello %(name)s,\n\nPlease find attached %(title)s %(number)s.\n\n%(clinic)s\n%(phone)s"
        )
        % {
            "name": invoice.patient.preferred_name or invoice.patient.legal_first_name,
            "title": doc.title.lower(),
            "number": invoice.number,
            "clinic": clinic.name,
            "phone": clinic.phone,
        },
        to=[invoice.patient.email],
        reply_to=[clinic.email] if clinic.email else None,
    )
    message.attach(f"{invoice.number}.pdf", render_pdf(doc), "application/pdf")
    message.send(fail_silently=False)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    audit.record(
        actor=actor, action="invoice.emailed", target=invoice, patient_id=invoice.patient_id
    )
    return True
