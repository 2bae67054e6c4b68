"""Hooks for the apps above scheduling (it never imports them): they connect receivers that
only call their own services."""

from django.dispatch import Signal

# Sent inside the booking transaction, with ``course`` and ``actor``, once a whole course is
# booked; the clinical record links the consultation's plan to it.
course_booked = Signal()

# Sent inside the completing transaction, with ``appointment`` and ``actor``, when an
# appointment becomes completed (the clinical record signs the session); reminders send the
# aftercare message from it.
appointment_completed = Signal()

# Sent inside the transaction of every status change, with ``appointment`` (already in its new
# status), ``actor``, ``from_status`` and ``to_status``, and for a cancellation ``by_patient``
# and ``late`` (inside the clinic's window; None otherwise); billing charges no-show and late
# cancellation fees from it.
appointment_status_changed = Signal()
