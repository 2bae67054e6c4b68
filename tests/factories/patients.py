"""factory_boy factories for the patients app.

They write rows directly (no services, no audit), for setting the scene in a test. To test a
behaviour of a write, call the service instead.
"""

import base64
import io
from datetime import date

import factory
from django.db.models import Max
from PIL import Image, ImageDraw

from patients.models import ConsentKind, ConsentTemplate, MedicalHistory, Patient, Sex


class PatientFactory(factory.django.DjangoModelFactory):
    """A patient with a unique name, email and US mobile number (+1 212 555 2000, 2001, ...).

    Link a portal account with ``PatientFactory(portal_user=patient_user)``.
    """

    class Meta:
        model = Patient

    legal_first_name = factory.Sequence(lambda n: f"Alice{n}")
    legal_last_name = "Example"
    date_of_birth = date(1985, 6, 15)
    sex = Sex.FEMALE
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    mobile_phone = factory.Sequence(lambda n: f"+1212555{2000 + n % 8000:04d}")


class MedicalHistoryFactory(factory.django.DjangoModelFactory):
    """The patient's next history version (1 for a patient without one)."""

    class Meta:
        model = MedicalHistory

    patient = factory.SubFactory(PatientFactory)
    version = factory.LazyAttribute(
        lambda o: (o.patient.medical_histories.aggregate(v=Max("version"))["v"] or 0) + 1
    )
    height_cm = 168
    weight_kg = 62


class ConsentTemplateFactory(factory.django.DjangoModelFactory):
    """A new current version of a consent text, asked for at intake.

    Only one version of a kind may be current, and a migration already gives every kind a
    version 1: like publishing, creating a current version retires the kind's previous one.
    """

    class Meta:
        model = ConsentTemplate

    kind = ConsentKind.TREATMENT
    version = factory.LazyAttribute(
        lambda o: (
            (ConsentTemplate.objects.filter(kind=o.kind).aggregate(v=Max("version"))["v"] or 0) + 1
        )
    )
    title = factory.LazyAttribute(lambda o: f"{ConsentKind(o.kind).label} v{o.version}")
    body = "I have read and understood the information about the treatment."
    is_current = True
    required_for_intake = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("is_current", True):
            ConsentTemplate.objects.filter(kind=kwargs["kind"], is_current=True).update(
                is_current=False
            )
        return super()._create(model_class, *args, **kwargs)


def signature_data_url(*, inked=True, size=(240, 80)):
    """A drawn signature as the signature pad sends it: ``data:image/png;base64,...``.

    ``inked=False`` gives an untouched pad (a fully transparent image).
    """
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if inked:
        ImageDraw.Draw(image).line(
            [(10, 60), (80, 20), (150, 55), (230, 15)], fill="black", width=3
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
