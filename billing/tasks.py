"""Celery tasks of billing: thin, named, ids only (no patient data in the broker)."""

import smtplib

from celery import shared_task

from . import services


@shared_task(
    name="billing.send_invoice_email",
    ignore_result=True,
    time_limit=60,
    soft_time_limit=50,
    autoretry_for=(smtplib.SMTPException, OSError),
    max_retries=3,
    retry_backoff=True,
)
def send_invoice_email(invoice_id, actor_id=None):
    """Email an issued invoice as a PDF to the patient (queued after commit by the page)."""
    return services.invoice_email_send(invoice_id=int(invoice_id), actor_id=actor_id)
