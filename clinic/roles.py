"""The four roles of the clinic, as auth groups with real permissions.

``ROLE_PERMISSIONS`` is the single source of truth. A data migration creates the groups, and
``sync_role_permissions`` (run after every ``migrate``) gives each group exactly these
permissions, so permissions of apps added later reach their roles without a new migration.
"""

from enum import Enum

from django.utils.translation import gettext_lazy as _


class Role(Enum):
    MANAGER = ("Clinic manager", _("Clinic manager"))
    FRONT_DESK = ("Front desk", _("Front desk"))
    PRACTITIONER = ("Practitioner", _("Practitioner"))
    PATIENT = ("Patient", _("Patient"))

    def __init__(self, label_en, label):
        self.label_en = label_en  # the group's name in the database, never translated
        self.label = label

    @property
    def slug(self):
        return self.name.lower().replace("_", "-")

    @property
    def is_staff_role(self):
        return self is not Role.PATIENT


# Who may do what, named once. Pages use them as ``role_required(*DESK_ROLES)`` (or the
# decorators in clinic/permissions.py), the API as its permission classes (``FrontDesk``, ...).
DESK_ROLES = (Role.MANAGER, Role.FRONT_DESK)  # book, check in, bill, take payments
CLINICAL_ROLES = (Role.MANAGER, Role.PRACTITIONER)  # read and write the clinical record
STAFF_ROLES = (Role.MANAGER, Role.FRONT_DESK, Role.PRACTITIONER)  # read the schedule

STAFF = ["clinic.access_staff_pages"]

ROLE_PERMISSIONS = {
    Role.MANAGER: STAFF
    + [
        "clinic.manage_clinic",
        "clinic.view_reports",
        "clinic.view_user",
        "clinic.add_user",
        "clinic.change_user",
        "clinic.view_location",
        "clinic.add_location",
        "clinic.change_location",
        "clinic.view_room",
        "clinic.add_room",
        "clinic.change_room",
        "clinic.view_practitioner",
        "clinic.add_practitioner",
        "clinic.change_practitioner",
        "clinic.view_workinghours",
        "clinic.add_workinghours",
        "clinic.change_workinghours",
        "clinic.delete_workinghours",
        "clinic.view_clinicsettings",
        "clinic.change_clinicsettings",
        "clinic.view_auditevent",
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "patients.view_medical_history",
        "patients.change_medical_history",
        "patients.view_consenttemplate",
        "patients.add_consenttemplate",
        "patients.change_consenttemplate",
        "treatment_sessions.view_appointmenttype",
        "treatment_sessions.add_appointmenttype",
        "treatment_sessions.change_appointmenttype",
    ],
    Role.FRONT_DESK: STAFF
    + ["patients.view_patient", "patients.add_patient", "patients.change_patient"],
    Role.PRACTITIONER: STAFF
    + [
        "patients.view_patient",
        "patients.view_medical_history",
        "patients.change_medical_history",
    ],
    Role.PATIENT: ["clinic.access_patient_portal"],
}


def extend_role_permissions(role, perms):
    """Let an app add its permissions to a role (called from the app's ``roles`` module)."""
    for perm in perms:
        if perm not in ROLE_PERMISSIONS[role]:
            ROLE_PERMISSIONS[role].append(perm)


def sync_role_permissions(using="default", **kwargs):
    """Create the role groups and give each exactly the permissions listed for it."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.using(using).get_or_create(name=role.label_en)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(
                Permission.objects.using(using).filter(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)
