"""Demo clinic for trying the software. Idempotent: running it again changes nothing.

It lives in billing, the top of the app layers, because it fills every app.
"""

import random
from datetime import date, time

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
        """Hook for later parts of the demo (histories, consents, bookings)."""

    @staticmethod
    def _ascii(text):
        from patients.models import fold

        return fold(text).replace(" ", "")
