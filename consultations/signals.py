"""Hooks for the apps above the clinical record (billing): they connect receivers that only
call their own services.

Event -> receiver -> service:

- session_record_signed -> billing.receivers.on_session_record_signed
  -> invoice_draft_on_completion (the visit's invoice, drafted once, from what was done)
"""

from django.dispatch import Signal

# Sent inside the signing transaction, with ``record`` (a signed SessionRecord) and ``actor``,
# after the appointment is completed; billing drafts the invoice from what was done.
session_record_signed = Signal()
