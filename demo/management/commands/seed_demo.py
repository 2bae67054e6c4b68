"""Demo clinic for trying the software. Idempotent: running it again changes nothing.

It lives in the demo app, above every other layer, because it fills every app.
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


# --- Session records (seed_demo._session_records) ------------------------------------------

# Lot numbers of the demo products: a recent lot and an expired one of each.
DEMO_LOT_CODES = {
    "Lipolytic blend": "LB",
    "Cellulite cocktail": "CC",
    "Hair revitalising mix": "HR",
}
# Where each area lies on the injection map: diagram, x range, y range (fractions of the
# diagram's width and height) and whether the area is on both sides of the body.
DEMO_MAP = {
    "abdomen": ("body_front", (0.42, 0.58), (0.40, 0.50), False),
    "flanks": ("body_back", (0.34, 0.39), (0.40, 0.47), True),
    "outer_thighs": ("body_front", (0.33, 0.38), (0.56, 0.66), True),
    "buttocks": ("body_back", (0.40, 0.47), (0.50, 0.57), True),
    "face": ("face", (0.30, 0.40), (0.50, 0.66), True),
    "scalp": ("face", (0.36, 0.64), (0.06, 0.18), False),
}
# Volume (ml), depth (mm), technique, needle gauge and length (mm) by kind of area.
DEMO_BODY = (Decimal("4.0"), Decimal("4.0"), "point_by_point", 30, Decimal("4.0"))
DEMO_FINE = (Decimal("2.0"), Decimal("1.5"), "nappage", 32, Decimal("4.0"))


def _demo_points(area):
    """A small grid of points inside the area, mirrored for areas on both sides."""
    diagram, (x0, x1), (y0, y1), both_sides = DEMO_MAP.get(
        area, ("body_front", (0.45, 0.55), (0.45, 0.55), False)
    )
    cells = [
        (x0 + (x1 - x0) * col / 2, y0 + (y1 - y0) * row / 2) for row in range(3) for col in range(3)
    ]
    if both_sides:
        cells += [(1 - x, y) for x, y in cells]
    four = Decimal("0.0001")
    return diagram, [
        (Decimal(str(x)).quantize(four), Decimal(str(y)).quantize(four)) for x, y in cells
    ]


def _demo_treated_area(record, area, product, lot):
    from consultations.models import InjectionPoint, TreatedArea

    volume, depth, technique, gauge, length = (
        DEMO_FINE if area in ("face", "scalp", "neck", "decollete") else DEMO_BODY
    )
    diagram, cells = _demo_points(area)
    treated = TreatedArea.objects.create(
        record=record,
        area=area,
        product=product,
        lot=lot,
        volume_ml=volume,
        injection_points=len(cells),
        depth_mm=depth,
        technique=technique,
        needle_gauge=gauge,
        needle_length_mm=length,
    )
    each = (volume / len(cells)).quantize(Decimal("0.01"))
    InjectionPoint.objects.bulk_create(
        InjectionPoint(treated_area=treated, diagram=diagram, x=x, y=y, volume_ml=each)
        for x, y in cells
    )


def _demo_assessment(record, area, k):
    """The area's values at session ``k``: from the consultation's, the grade one step better
    every two sessions and the circumference 0.7 cm less each session."""
    from consultations.models import AreaAssessment, Condition

    baseline = (
        AreaAssessment.objects.filter(
            patient_id=record.patient_id, area=area, consultation__isnull=False
        )
        .order_by("-recorded_at")
        .first()
    )
    grade = baseline.nurnberger_muller_grade if baseline else None
    grade = 2 if grade is None else grade
    circumference = baseline.circumference_cm if baseline else None
    if circumference is None and area not in ("face", "scalp"):
        circumference = Decimal("80.0")
    AreaAssessment.objects.create(
        patient_id=record.patient_id,
        session_record=record,
        area=area,
        condition=baseline.condition if baseline else Condition.CELLULITE,
        nurnberger_muller_grade=max(grade - (k - 1) // 2, 0),
        circumference_cm=(circumference - Decimal("0.7") * k).quantize(Decimal("0.1"))
        if circumference is not None
        else None,
        recorded_at=record.appointment.starts_at,
    )


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
            self._billing()
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
        self._session_records()

    def _consultations(self):
        """Signed consultations for the course patients: two areas assessed, the history
        reviewed and alerts acknowledged, a plan linked to the booked course, and two
        generated injection-site photos (drawn here, never real people)."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from consultations.models import Consultation, Product, TreatmentPlan
        from consultations.services import consultations as records
        from consultations.services import photos as photo_services
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

    def _session_records(self):
        """Signed records for the courses' past completed sessions, written directly (the
        appointments are already completed, so the recording services no longer apply): a
        recent and an expired lot of each product, one or two treated areas with points on
        the map, side effects, an assessment per area (the grade improves, the circumference
        goes down) and the weight, so the course view draws a trend. The last completed
        session of each course has a before and an after photo. One course had a severe
        adverse event and waits for a practitioner's review. Records already there are left
        alone (idempotent)."""
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.utils import timezone

        from consultations.models import (
            AdverseEvent,
            AreaAssessment,
            Consultation,
            Product,
            ProductLot,
            SessionRecord,
            SideEffectReport,
        )
        from consultations.services import photos as photo_services
        from consultations.services.session_records import REVIEW_REASON
        from patients.models import MedicalHistory
        from sessions.models import Appointment
        from sessions.services import course_flag_for_review

        # The demo consultations are written today: date them and their assessments to
        # their appointment, weeks ago, so each course's chart starts from their values.
        for consultation in Consultation.objects.filter(appointment__isnull=False).select_related(
            "appointment"
        ):
            when = consultation.appointment.starts_at
            if consultation.created_at != when:
                Consultation.objects.filter(pk=consultation.pk).update(created_at=when)
                AreaAssessment.objects.filter(consultation=consultation).update(recorded_at=when)

        today = timezone.localdate(timezone=Location.objects.get(code="NYC").zone)
        lots = {}
        for product in Product.objects.filter(name__in=DEMO_LOT_CODES):
            code = DEMO_LOT_CODES[product.name]
            recent, _ = ProductLot.objects.get_or_create(
                product=product,
                lot_number=f"{code}-24117",
                defaults={
                    "expires_on": today + timedelta(days=330),
                    "received_on": today - timedelta(days=45),
                },
            )
            expired, _ = ProductLot.objects.get_or_create(
                product=product,
                lot_number=f"{code}-23982",
                defaults={
                    "expires_on": today - timedelta(days=12),
                    "received_on": today - timedelta(days=380),
                    "is_active": False,
                },
            )
            lots[product.pk] = (expired, recent)
        if not lots:
            return
        fallback = Product.objects.filter(pk__in=lots).order_by("name").first()
        aftercare = ClinicSettings.load().aftercare_template
        todo = list(
            Appointment.objects.filter(
                appointment_type__kind="treatment",
                status="completed",
                course__isnull=False,
                session_record__isnull=True,
            )
            .select_related("course__plan", "practitioner__user", "patient", "location")
            .order_by("course_id", "starts_at")
        )
        course_order = {pk: n for n, pk in enumerate(sorted({a.course_id for a in todo}), start=1)}
        last_done = {}
        for appointment in todo:
            last_done[appointment.course_id] = appointment.pk
        for appointment in todo:
            course, k = appointment.course, appointment.session_number or 1
            nth = course_order[course.pk]
            doctor = appointment.practitioner.user
            plan = getattr(course, "plan", None)
            product = plan.product if plan is not None and plan.product_id in lots else fallback
            areas = (list(plan.areas) if plan is not None else list(course.areas))[:2] or [
                "abdomen"
            ]
            day = timezone.localdate(appointment.starts_at, timezone=appointment.location.zone)
            expired, recent = lots[product.pk]
            lot = expired if day <= expired.expires_on else recent
            history = (
                MedicalHistory.objects.filter(patient=appointment.patient)
                .order_by("-version")
                .first()
            )
            start_weight = Decimal(history.weight_kg if history and history.weight_kg else 72)
            quiet = k == 1 or (k + nth) % 3 == 0
            record = SessionRecord.objects.create(
                appointment=appointment,
                patient=appointment.patient,
                practitioner=appointment.practitioner,
                no_side_effects_since_last=quiet,
                weight_kg=(start_weight - Decimal("0.4") * k).quantize(Decimal("0.1")),
                alerts_reviewed=True,
                tolerance="fair" if (k + nth) % 4 == 0 else "good",
                aftercare_given=aftercare,
                next_session_recommendation="Same protocol; reassess the grade at session 5."
                if k < 4
                else "Continue; consider maintenance once the course ends.",
                created_by=doctor,
                created_at=appointment.starts_at,
            )
            if not quiet:
                SideEffectReport.objects.create(
                    record=record, kind="bruising", severity="mild", duration_days=2 + k % 3
                )
                if k % 2 == 0:
                    SideEffectReport.objects.create(
                        record=record, kind="soreness", severity="mild", duration_days=1
                    )
            for area in areas:
                _demo_treated_area(record, area, product, lot)
                _demo_assessment(record, area, k)
            severe = nth == 2 and appointment.pk == last_done[course.pk] and k >= 2
            if severe:
                AdverseEvent.objects.create(
                    record=record,
                    kind="vasovagal",
                    severity="severe",
                    action_taken="Session stopped; patient lying down, legs raised, observed "
                    "30 minutes until fully recovered.",
                    follow_up="Phone call the next day: well. Eat before the next session.",
                )
            elif nth == 4 and k == 2:
                AdverseEvent.objects.create(
                    record=record,
                    kind="haematoma",
                    severity="mild",
                    action_taken="Pressure and a cold compress for ten minutes.",
                    follow_up="Arnica gel for three days.",
                )
            if appointment.pk == last_done[course.pk]:
                for moment in ("before", "after"):
                    photo_services.photo_add(
                        actor=doctor,
                        patient=appointment.patient,
                        uploaded_file=SimpleUploadedFile(
                            "site.jpg",
                            demo_photo(seed=nth * 10 + k, view=moment),
                            content_type="image/jpeg",
                        ),
                        area=areas[0],
                        view="front",
                        sites_marked=moment == "after",
                        session_record=record,
                        moment=moment,
                        taken_at=appointment.starts_at
                        + timedelta(minutes=5 if moment == "before" else 25),
                    )
            SessionRecord.objects.filter(pk=record.pk).update(
                status="signed", signed_by=doctor, signed_at=appointment.ends_at
            )
            if severe:
                course_flag_for_review(actor=doctor, course=course, reason=REVIEW_REASON)

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
        # New patients' consultations on the coming working days, one an evening, so that
        # whatever day the demo is built on they never crowd into one.
        day = today
        for offset, patient in enumerate(patients[12:18]):
            day += timedelta(days=1)
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
                actor=front_desk, patient=newcomer, base_url=settings.SITE_URL
            )

    @staticmethod
    def _ascii(text):
        from patients.models import fold

        return fold(text).replace(" ", "")

    # --- Billing (seed_demo._billing) -----------------------------------------------------------

    def _billing(self):
        """Prices from the start of last year; an invoice for every completed visit, issued
        and paid (card or cash) when the visit ended, in time order so numbers follow dates;
        today's visits left as drafts for front desk's checkout; patient@demo.clinic's course
        sold as a package before its first session, paid in two instalments, mid-way; one
        patient with an unpaid balance (a session part paid and a no-show fee). Idempotent:
        prices, the package and the payments are made once; a second run only drafts visits
        completed since."""
        from django.utils import timezone

        from billing import services as billing
        from billing.models import Package, PriceList
        from patients.models import Patient
        from sessions.models import Appointment, Course

        desk = User.objects.get(email="frontdesk@demo.clinic")
        location = Location.objects.get(code="NYC")
        if not PriceList.objects.exists():
            self._demo_prices(desk)
        completed = Appointment.objects.filter(status="completed").order_by("starts_at")
        first_run = not Package.objects.exists()
        if not first_run:
            for appointment in completed:
                if not appointment.invoices.filter(status__in=["draft", "issued"]).exists():
                    billing.invoice_draft_on_completion(actor=desk, appointment=appointment)
            return
        patients = list(Patient.objects.filter(is_active=True).order_by("id"))
        me, behind = patients[0], patients[2]
        my_course = Course.objects.filter(patient=me).order_by("created_at").first()
        my_visits = (
            my_course.appointments.filter(status="completed").order_by("starts_at")
            if my_course
            else Appointment.objects.none()
        )
        for appointment in completed.exclude(pk__in=my_visits):
            billing.invoice_draft_on_completion(actor=desk, appointment=appointment)
        missed = Appointment.objects.filter(patient=behind, status="no_show").first()
        if missed is not None:
            billing.fee_invoice_draft(actor=desk, appointment=missed, purpose="no_show_fee")
        sold_at = None
        if my_course is not None:
            first = my_course.appointments.order_by("starts_at").first()
            sold_at = first.starts_at - timedelta(minutes=20)
            self._issue_and_pay_drafts(desk, location, behind, until=sold_at)
            package = billing.package_sell(
                actor=desk,
                patient=me,
                location=location,
                appointment_type=None,
                sessions=None,
                price=Decimal("2975.00"),  # 10 sessions for the price of 8.5
                course=my_course,
                name="10 sessions for the price of 8.5",
                now=sold_at,
            )
            billing.payment_take(
                actor=desk,
                invoice=package.invoice,
                method="card",
                amount="1500",
                reference="DEMO-PKG-1",
                now=sold_at,
            )
            for appointment in my_visits:
                billing.invoice_draft_on_completion(actor=desk, appointment=appointment)
        self._issue_and_pay_drafts(desk, location, behind)
        if my_course is not None:
            visits = list(my_visits)
            second = visits[1] if len(visits) > 1 else None
            billing.payment_take(
                actor=desk,
                invoice=package.invoice,
                method="bank_transfer",
                amount="1475",
                now=second.ends_at if second else timezone.now(),
            )

    def _demo_prices(self, desk):
        from django.utils import timezone

        from billing import services as billing
        from billing.models import AreaTier
        from clinic.areas import BodyArea
        from sessions.models import AppointmentType

        dearer = {"abdomen": 350, "outer_thighs": 380, "buttocks": 380, "face": 320}
        areas = {}
        for area in BodyArea.values:
            standard = Decimal(dearer.get(area, 300))
            areas[(area, AreaTier.SMALL)] = standard - 60
            areas[(area, AreaTier.STANDARD)] = standard
            areas[(area, AreaTier.LARGE)] = standard + 80
        billing.price_list_create(
            actor=desk,
            effective_from=date(timezone.localdate().year - 1, 1, 1),
            rules={
                "additional_areas": "percent",
                "additional_area_value": Decimal("50"),
                "small_area_max_ml": Decimal("2"),
                "large_area_min_ml": Decimal("8"),
                "consultation_credited": True,
                "no_show_fee": Decimal("75"),
                "late_cancellation_fee": Decimal("50"),
                "note": "Demo prices",
            },
            sessions={AppointmentType.objects.get(name="Consultation").pk: Decimal("150")},
            areas=areas,
        )

    def _issue_and_pay_drafts(self, desk, location, behind, until=None):
        """Issue the drafts of visits before ``until`` (default: before today) in time order,
        each when its visit ended, and pay it then: alternately by card and in cash. The
        no-show fee stays unpaid, and ``behind``'s latest session is only part paid."""
        from django.utils import timezone

        from billing import services as billing
        from billing.models import Invoice

        today = timezone.localdate(timezone=location.zone)
        drafts = [
            draft
            for draft in Invoice.objects.filter(status="draft", appointment__isnull=False)
            .select_related("appointment")
            .order_by("appointment__starts_at", "id")
            if (until is not None and draft.appointment.starts_at < until)
            or (
                until is None
                and timezone.localtime(draft.appointment.starts_at, location.zone).date() < today
            )
        ]
        behind_sessions = [
            d for d in drafts if d.patient_id == behind.pk and d.purpose == "session"
        ]
        part_paid = behind_sessions[-1].pk if until is None and behind_sessions else None
        for number, draft in enumerate(drafts):
            when = draft.appointment.ends_at + timedelta(minutes=5)
            invoice = billing.invoice_issue(actor=desk, invoice=draft, now=when)
            due = invoice.total - sum(a.amount for a in invoice.allocations.all())
            if due <= 0 or invoice.purpose == "no_show_fee":
                continue  # covered by the package, or the unpaid no-show fee
            if invoice.pk == part_paid:
                due = min(due, Decimal("100"))
            method = "cash" if number % 3 else "card"
            billing.payment_take(
                actor=desk,
                invoice=invoice,
                method=method,
                amount=due,
                reference=f"DEMO-{invoice.number}" if method == "card" else "",
                now=when,
            )
