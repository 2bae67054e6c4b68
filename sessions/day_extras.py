"""What the apps above scheduling add to an appointment on the day pages (front desk's today
list, the practitioner's day, the calendar's appointment panel): billing's payment badge and
checkout link, say. Scheduling never imports them: each app registers a provider in its
``AppConfig.ready``::

    provider(user, appointments, place) -> {appointment id: {"template": ..., **context}}

``place`` is the page asking: one of ``PLACES``, so a provider shows on each page only what
belongs there. A provider answers for the whole list at once (one query, never one per row)
and leaves out the appointments it adds nothing to. The page includes each extra's template
with ``extra`` (the dict) in its context."""

TODAY = "today"
MY_DAY = "my_day"
CALENDAR_PANEL = "calendar_panel"
PLACES = (TODAY, MY_DAY, CALENDAR_PANEL)

_PROVIDERS = {}


def register(name, provider):
    """``name`` identifies the provider (registering the same name again replaces it)."""
    _PROVIDERS[name] = provider


def extras_for(user, appointments, place):
    """``{appointment id: [extra, ...]}`` from every registered provider, in the order they
    were registered."""
    if place not in PLACES:
        raise ValueError(f"Unknown place for day extras: {place!r}")
    appointments = list(appointments)
    merged = {}
    if not appointments:
        return merged
    for provider in _PROVIDERS.values():
        for pk, extra in (provider(user, appointments, place) or {}).items():
            merged.setdefault(pk, []).append(extra)
    return merged


def attach_extras(user, appointments, place):
    """Set ``appointment.extras`` (a list, maybe empty) on each appointment, so a template
    just loops: ``{% for extra in appointment.extras %}{% include extra.template with
    extra=extra %}{% endfor %}``. Returns the appointments."""
    found = extras_for(user, appointments, place)
    for appointment in appointments:
        appointment.extras = found.get(appointment.pk, [])
    return appointments
