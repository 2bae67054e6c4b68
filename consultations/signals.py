"""Hooks for the apps above the clinical record (billing): they connect receivers that only
call their own services."""

from django.dispatch import Signal

# Sent inside the signing transaction, with ``record`` (a signed SessionRecord) and ``actor``,
# after the appointment is completed; billing drafts the invoice from what was done.
session_record_signed = Signal()
