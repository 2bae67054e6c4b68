"""Panels that the apps above patients add to the patient's chart (appointments and courses,
consultations and photos, invoices). Patients never imports them: each app registers a
function ``panel(user, patient) -> dict | None`` in its ``AppConfig.ready``; the dict has the
``template`` to include and its context. ``None`` hides the panel for that user."""

_PANELS = {}


def register(slot, panel):
    """``slot`` is where the chart shows it: "schedule", "clinical" or "billing"."""
    _PANELS[slot] = panel


def chart_panels(user, patient):
    panels = {}
    for slot, panel in _PANELS.items():
        found = panel(user, patient)
        if found is not None:
            panels[slot] = found
    return panels
