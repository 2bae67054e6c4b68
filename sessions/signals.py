"""Hooks for the parts above scheduling (it never imports them: patient messaging in
``sessions.messaging``, the clinical record, billing): they connect receivers that
only call their own services. One event, one reaction per app (event -> receiver -> service):

- course_booked -> consultations.apps.link_plan -> the signed plan is linked to the course
- course_booked -> billing.receivers.on_course_booked -> package_link_course
- appointment_booked -> sessions.messaging.receivers.on_appointment_booked -> reminders_plan
- appointment_moved -> sessions.messaging.receivers.on_appointment_moved -> reminders_replan
- appointment_status_changed -> sessions.messaging.receivers.on_appointment_status_changed
  -> reminders_on_status_change (withdraws the reminders of a visit no longer ahead)
- appointment_completed -> sessions.messaging.receivers.on_appointment_completed
  -> messages_after_completion (aftercare, side-effects question, book the next session)
- appointment_status_changed -> billing.receivers.on_appointment_status_changed
  -> fee_invoice_on_status_change (no-show, late cancellation), or invoice_draft_on_completion
  for a visit completed without a signed session record (signing drafts through
  consultations.signals.session_record_signed instead)
"""

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

# Sent inside the booking transaction, with ``appointment`` and ``actor``, for every appointment
# booked (alone or as part of a course); messaging plans its reminders.
appointment_booked = Signal()

# Sent inside the moving transaction, with ``appointment`` (locked, at its new time) and
# ``actor``; messaging withdraws its waiting reminders and plans them for the new time.
appointment_moved = Signal()
