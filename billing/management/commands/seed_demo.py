"""Demo clinic for trying the software. Idempotent: running it again changes nothing.

It lives in billing, the top of the app layers, because it fills every app.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic.models import ClinicSettings, Location, Practitioner, Room, User, WorkingHours
from clinic.roles import Role
from clinic.services import user_create

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published demo password, refused in production

STAFF = [
    ("manager@demo.clinic", "Margaux Leroy", Role.MANAGER),
    ("frontdesk@demo.clinic", "Fiona Desk", Role.FRONT_DESK),
    ("practitioner@demo.clinic", "Dr Paul Martin", Role.PRACTITIONER),
    ("practitioner2@demo.clinic", "Dr Sofia Rossi", Role.PRACTITIONER),
    ("practitioner3@demo.clinic", "Nurse Amina Diallo", Role.PRACTITIONER),
]

FIRST_NAMES = [
    "Zoé",
    "Chloé",
    "Hélène",
    "Amélie",
    "Léa",
    "Inès",
    "Camille",
    "Sarah",
    "Emma",
    "Julia",
    "Nora",
    "Lucía",
    "Maëlle",
    "Clara",
    "Anaïs",
    "Laura",
    "Sophie",
    "Marie",
    "Élodie",
    "Jade",
    "Alice",
    "Manon",
    "Eva",
    "Louise",
    "Rose",
    "Thomas",
    "Lucas",
    "Hugo",
    "Nathan",
    "Élise",
]
LAST_NAMES = [
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "García",
    "Bernard",
    "Petit",
    "Durand",
    "Müller",
    "Roux",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Chevalier",
    "Faure",
    "André",
    "Mercier",
    "Gauthier",
    "Perrin",
]


ALLERGIES = [
    {"substance": "Lidocaine", "reaction": "Hives and swelling", "severity": "severe"},
    {"substance": "Latex", "reaction": "Rash", "severity": "moderate"},
    {"substance": "Iodine", "reaction": "Itching", "severity": "mild"},
    {"substance": "Penicillin", "reaction": "Rash", "severity": "moderate"},
]
MEDICATIONS = [
    {"name": "Warfarin", "dose": "5 mg daily", "is_anticoagulant": True},
    {"name": "Aspirin", "dose": "75 mg daily", "is_antiplatelet": True},
    {"name": "Levothyroxine", "dose": "50 µg"},
]
GOALS = ["cellulite", "localized_fat", "skin_rejuvenation", "hair_loss"]


def demo_photo(*, seed, view):
    """A generated stand-in for an injection-site photo: a skin-toned shape with a grid of
    marker dots. Not a photograph of anyone."""
    import io

    from PIL import Image, ImageDraw

    rng = random.Random(seed * 10 + len(view))
    skin = (224 - rng.randint(0, 60), 180 - rng.randint(0, 60), 150 - rng.randint(0, 50))
    image = Image.new("RGB", (1200, 900), (236, 236, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse([250, 80, 950, 860], fill=skin)
    for row in range(5):
        for col in range(6):
            x, y = 400 + col * 70 + rng.randint(-6, 6), 300 + row * 70 + rng.randint(-6, 6)
            draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=(40, 60, 160))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def demo_signature():
    """A drawn-looking signature as a PNG data URL."""
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (300, 90), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(10, 60), (60, 20), (100, 70), (150, 25), (200, 65), (280, 30)], fill="black", width=3
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class Command(BaseCommand):
    help = "Create the demo clinic (one location, rooms, staff, about 30 patients). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (never in production).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates known passwords: it refuses to run with DEBUG off. Use --force."
            )
        with transaction.atomic():
            location = self._clinic()
            self._staff(location)
            self._patients()
            self._extras()
        self.stdout.write(self.style.SUCCESS("Demo clinic ready."))

    def _clinic(self):
        clinic = ClinicSettings.load()
        clinic.name = "Lumière Mesotherapy Clinic"
        clinic.phone = "+1 212 555 0100"
        clinic.email = "hello@demo.clinic"
        clinic.address = "12 Park Avenue, New York, NY 10016"
        clinic.save()
        location, _ = Location.objects.get_or_create(
            code="NYC",
            defaults={
                "name": "Lumière Park Avenue",
                "time_zone": "America/New_York",
                "address": clinic.address,
                "phone": clinic.phone,
            },
        )
        for name in ["Treatment room 1", "Treatment room 2"]:
            Room.objects.get_or_create(location=location, name=name)
        return location

    def _staff(self, location):
        colours = iter(["#2563eb", "#db2777", "#059669"])
        for email, name, role in STAFF:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = user_create(
                    actor=None, email=email, password=DEMO_PASSWORD, full_name=name, role=role
                )
            if role is Role.PRACTITIONER:
                title, _, display = name.partition(" ")
                colour = next(colours)
                practitioner, created = Practitioner.objects.get_or_create(
                    user=user,
                    defaults={"display_name": display, "title": title, "colour": colour},
                )
                if created:
                    practitioner.locations.add(location)
                    for weekday in range(5):
                        WorkingHours.objects.create(
                            practitioner=practitioner,
                            location=location,
                            weekday=weekday,
                            starts_at=time(9, 0),
                            ends_at=time(18, 0),
                        )

    def _patients(self):
        from patients.models import Patient, Sex

        rng = random.Random(2026)  # the same demo every time
        user = User.objects.filter(email="patient@demo.clinic").first()
        if user is None:
            user = user_create(
                actor=None,
                email="patient@demo.clinic",
                password=DEMO_PASSWORD,
                full_name="Zoé Dubois",
                role=Role.PATIENT,
            )
        for i in range(30):
            first, last = FIRST_NAMES[i], LAST_NAMES[i]
            email = (
                "patient@demo.clinic"
                if i == 0
                else f"{self._ascii(first)}.{self._ascii(last)}@example.com"
            )
            if Patient.objects.filter(email=email).exists():
                continue
            Patient.objects.create(
                legal_first_name=first,
                legal_last_name=last,
                date_of_birth=date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28)),
                sex=Sex.MALE if first in {"Thomas", "Lucas", "Hugo", "Nathan"} else Sex.FEMALE,
                email=email,
                mobile_phone=f"+1212555{1000 + i:04d}",
                city="New York",
                country="United States",
                consents_email_reminders=True,
                consents_sms_reminders=i % 3 != 0,
                portal_user=user if i == 0 else None,
            )

    def _extras(self):
        self._histories_and_consents()
        self._appointment_types()
        self._bookings()
        self._consultations()

    def _consultations(self):
        """Signed consultations for the course patients: two areas assessed, the history
        reviewed and alerts acknowledged, a plan linked to the booked course, and two
        generated injection-site photos (drawn here, never real people)."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from consultations import photo_services
        from consultations import services as records
        from consultations.models import Consultation, Product, TreatmentPlan
        from patients import services as patient_services
        from patients.selectors import current_alerts, current_history
        from sessions.models import Appointment, Course

        products = [
            Product.objects.get_or_create(name=name, defaults={"composition": composition})[0]
            for name, composition in [
                ("Lipolytic blend", "Phosphatidylcholine 5% + sodium deoxycholate 2.5%"),
                ("Cellulite cocktail", "Organic silicium, artichoke extract, caffeine"),
                ("Hair revitalising mix", "Biotin, dexpanthenol, hyaluronic acid"),
            ]
        ]
        done = Appointment.objects.filter(
            appointment_type__kind="consultation", status="completed", consultation__isnull=True
        ).select_related("patient", "practitioner__user")
        for index, appointment in enumerate(done.order_by("starts_at")):
            patient, doctor = appointment.patient, appointment.practitioner.user
            course = Course.objects.filter(patient=patient).first()
            areas = course.areas if course and course.areas else ["abdomen"]
            consultation = records.consultation_start(
                actor=doctor, patient=patient, appointment=appointment
            )
            records.consultation_save_draft(
                actor=doctor,
                consultation=consultation,
                data={
                    "complaint": "Localised fat and cellulite that diet and exercise do not shift.",
                    "goals": "Smoother contour before summer.",
                    "tried_before": "Diet for a year, running twice a week.",
                    "explained_expected_results": True,
                    "explained_number_of_sessions": True,
                    "explained_side_effects": True,
                    "explained_maintenance": True,
                },
                assessments=[
                    {
                        "area": area,
                        "condition": "cellulite" if n else "localized_fat",
                        "nurnberger_muller_grade": 1 + (index + n) % 3,
                        "circumference_cm": Decimal(70 + 5 * n + index % 7),
                        "notes": "",
                    }
                    for n, area in enumerate(areas[:2])
                ],
            )
            records.consultation_review_history(actor=doctor, consultation=consultation)
            history = current_history(patient)
            for alert in current_alerts(patient, history):
                if alert.acknowledgement is None:
                    patient_services.alert_acknowledge(
                        actor=doctor,
                        patient=patient,
                        alert_key=alert.key,
                        note="Discussed; product and technique chosen accordingly.",
                    )
            if course is not None:
                plan = records.plan_save(
                    actor=doctor,
                    consultation=consultation,
                    data={
                        "areas": areas,
                        "product": products[index % 2],
                        "appointment_type": course.appointment_type,
                        "planned_sessions": course.planned_sessions,
                        "interval_days": course.interval_days,
                        "price_per_session": Decimal("350.00"),
                    },
                )
                TreatmentPlan.objects.filter(pk=plan.pk).update(course=course)
            for view, area in (("front", areas[0]), ("left", areas[0])):
                photo_services.photo_add(
                    actor=doctor,
                    patient=patient,
                    uploaded_file=SimpleUploadedFile(
                        "sites.jpg", demo_photo(seed=index, view=view), content_type="image/jpeg"
                    ),
                    area=area,
                    view=view,
                    sites_marked=True,
                    consultation=consultation,
                    taken_at=appointment.starts_at,
                )
            records.consultation_sign(actor=doctor, consultation=consultation)
        return Consultation.objects.count()

    def _bookings(self):
        """Consultations and weekly courses around today: past sessions completed (one
        missed), today's list, upcoming sessions, and patient@demo.clinic mid-course with
        a reschedule request waiting in front desk's inbox."""
        from django.utils import timezone

        from patients.models import Patient
        from sessions import services as scheduling
        from sessions.models import Appointment, AppointmentType

        if Appointment.objects.exists():
            return
        location = Location.objects.get(code="NYC")
        zone = location.zone
        rooms = list(Room.objects.filter(location=location).order_by("name"))
        practitioners = list(Practitioner.objects.filter(locations=location).order_by("pk"))
        desk = User.objects.get(email="frontdesk@demo.clinic")
        consultation = AppointmentType.objects.get(name="Consultation")
        treatment = AppointmentType.objects.get(name="Treatment session")
        patients = list(Patient.objects.filter(is_active=True).order_by("id"))
        today = timezone.localdate(timezone=zone)
        monday = today - timedelta(days=today.weekday())
        now = timezone.now()
        times = [time(9, 30), time(12, 30), time(11, 0), time(14, 0), time(16, 30), time(13, 0)]
        areas = [["abdomen", "flanks"], ["outer_thighs"], ["face"], ["scalp"], ["buttocks"]]

        def at(day, clock):
            return datetime.combine(day, clock).replace(tzinfo=zone)

        def book_in_a_free_room(**booking):
            for room in rooms:
                try:
                    return scheduling.appointment_book(actor=desk, room=room, **booking)
                except scheduling.SlotTakenError:
                    continue
            raise CommandError("The demo diary is too full.")

        def play_out(appointment, missed=False):
            if appointment.starts_at >= now:
                return
            if missed:
                scheduling.appointment_mark_no_show(actor=desk, appointment=appointment)
                return
            scheduling.appointment_check_in(actor=desk, appointment=appointment)
            scheduling.appointment_start(
                actor=appointment.practitioner.user, appointment=appointment
            )
            scheduling.appointment_complete(
                actor=appointment.practitioner.user, appointment=appointment
            )

        # Twelve patients in a course of ten weekly sessions that started 0-5 weeks ago
        # (patient@demo.clinic three weeks ago).
        for index, patient in enumerate(patients[:12]):
            practitioner = practitioners[index % len(practitioners)]
            weekday = index % 5
            clock = times[index % len(times)]
            first = monday + timedelta(weeks=-((index + 3) % 6), days=weekday)
            consult = book_in_a_free_room(
                patient=patient,
                practitioner=practitioner,
                location=location,
                appointment_type=consultation,
                starts_at=at(first - timedelta(days=7), time(10, 0) if index % 2 else time(15, 0)),
            )
            play_out(consult)
            course = scheduling.course_book(
                actor=desk,
                patient=patient,
                practitioner=practitioner,
                location=location,
                appointment_type=treatment,
                interval_days=7,
                areas=areas[index % len(areas)],
                starts=[at(first + timedelta(weeks=k), clock) for k in range(10)],
            )
            for appointment in course.appointments.order_by("starts_at"):
                play_out(appointment, missed=index == 2 and appointment.session_number == 2)
        # New patients' consultations in the coming days.
        for offset, patient in enumerate(patients[12:18]):
            day = today + timedelta(days=1 + offset)
            while day.weekday() > 4:
                day += timedelta(days=1)
            book_in_a_free_room(
                patient=patient,
                practitioner=practitioners[offset % len(practitioners)],
                location=location,
                appointment_type=consultation,
                starts_at=at(day, time(17, 15)),
            )
        me = patients[0]  # patient@demo.clinic
        upcoming = (
            Appointment.objects.filter(patient=me, starts_at__gt=now + timedelta(days=2))
            .order_by("starts_at")
            .first()
        )
        if upcoming is not None:
            scheduling.portal_reschedule_request(
                actor=me.portal_user,
                patient=me,
                appointment=upcoming,
                message="Could we do Thursday lunchtime that week instead?",
            )

    def _appointment_types(self):
        from sessions.models import AppointmentType

        for name, kind, minutes, buffer, colour in [
            ("Consultation", "consultation", 45, 15, "#7c3aed"),
            ("Treatment session", "treatment", 30, 10, "#0f5c6e"),
            ("Follow-up", "follow_up", 15, 0, "#d97706"),
            ("Maintenance session", "maintenance", 30, 10, "#059669"),
        ]:
            AppointmentType.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "duration_minutes": minutes,
                    "buffer_after_minutes": buffer,
                    "colour": colour,
                },
            )

    def _histories_and_consents(self):
        """Realistic intake data: histories (some allergies, a blood thinner, a pregnancy),
        signed consents, and one pending intake invitation."""
        from patients import services as patient_services
        from patients.models import ConsentTemplate, IntakeInvitation, MedicalHistory, Patient

        practitioner = User.objects.get(email="practitioner@demo.clinic")
        front_desk = User.objects.get(email="frontdesk@demo.clinic")
        rng = random.Random(7)
        templates = list(ConsentTemplate.objects.filter(is_current=True, required_for_intake=True))
        patients = list(Patient.objects.order_by("id"))
        for i, patient in enumerate(patients[:-1]):  # the last one has a pending invitation
            if patient.medical_histories.exists():
                continue
            allergies = [ALLERGIES[i % len(ALLERGIES)]] if i % 4 == 0 else []
            medications = [MEDICATIONS[i % len(MEDICATIONS)]] if i % 5 == 1 else []
            patient_services.medical_history_submit(
                actor=practitioner,
                patient=patient,
                data={
                    "height_cm": rng.randint(155, 185),
                    "weight_kg": rng.randint(52, 95),
                    "pregnant_or_breastfeeding": i == 9,
                    "tried_diet": i % 2 == 0,
                    "tried_exercise": True,
                    "goals": [GOALS[i % len(GOALS)]],
                    "earlier_aesthetic_treatments": "Radiofrequency, 2023" if i % 6 == 0 else "",
                },
                allergies=allergies,
                medications=medications,
                source=MedicalHistory.Source.CLINIC,
            )
            for template in templates:
                patient_services.consent_sign(
                    actor=front_desk,
                    patient=patient,
                    template=template,
                    signed_name=patient.full_name,
                    signature=demo_signature(),
                    via="desk",
                )
            Patient.objects.filter(pk=patient.pk).update(intake_completed_at=patient.created_at)
        newcomer = patients[-1]
        if not IntakeInvitation.objects.filter(patient=newcomer).exists():
            patient_services.intake_invitation_send(
                actor=front_desk, patient=newcomer, base_url="http://127.0.0.1:8000"
            )

    @staticmethod
    def _ascii(text):
        from patients.models import fold

        return fold(text).replace(" ", "")
