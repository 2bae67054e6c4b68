"""The clinic's starting consent texts, created by a data migration; managers publish new
versions in the admin."""

TEMPLATES = [
    (
        "treatment",
        "Informed consent to mesotherapy",
        True,
        "I consent to a course of mesotherapy: a series of small injections of a mixture of "
        "substances into the middle layer of the skin of the areas agreed with my practitioner, "
        "under topical anaesthetic only.\n\n"
        "My practitioner has explained the expected results (usually visible from about the third "
        "session, appearing gradually, not permanent without maintenance, diet and exercise), the "
        "usual number of sessions, and the side effects: a sharp pinch or heaviness during "
        "injection; bruising that may last up to a week; soreness for about 48 hours; mild "
        "swelling or rashes for a week or two; rarely inflammation or painful sores, which may "
        "mean stopping the course.\n\n"
        "I have told the clinic about my allergies, medicines (especially blood thinners), "
        "pregnancy or breastfeeding and health conditions, and I will tell them about any change. "
        "I may withdraw this consent at any time.",
    ),
    (
        "photographs",
        "Consent to clinical photographs",
        True,
        "I agree that the clinic photographs the treated areas, including the injection sites "
        "marked on my skin, before and during my treatment. The photographs are part of my "
        "confidential medical record, used only for my care and to compare progress, and are "
        "never shown publicly without my separate consent. I may withdraw this consent at any "
        "time; photographs already taken stay in my record as the law requires.",
    ),
    (
        "marketing_photos",
        "Consent to use photographs for marketing",
        False,
        "I agree that the clinic may use before-and-after photographs of my treated areas, "
        "without my face or any detail that identifies me, on its website, social media and "
        "brochures. This is optional and does not affect my treatment. I may withdraw this "
        "consent at any time; the clinic will then stop any new use of the photographs.",
    ),
]


def create_default_consent_templates(consent_template_model):
    """Version 1 of each kind that has no template yet (idempotent)."""
    for kind, title, required, body in TEMPLATES:
        if not consent_template_model.objects.filter(kind=kind).exists():
            consent_template_model.objects.create(
                kind=kind, version=1, title=title, body=body, required_for_intake=required
            )
