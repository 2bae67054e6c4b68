"""API serializers for patients. They validate input and shape output; they never save (the
views call ``patients.services``)."""

from django.utils.translation import gettext_lazy as _
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from .models import (
    AlertAcknowledgement,
    Allergy,
    ConsentSignature,
    ConsentTemplate,
    MedicalHistory,
    Medication,
    Patient,
)
from .services import HISTORY_FIELDS, PATIENT_EDITABLE_FIELDS, PORTAL_EDITABLE_FIELDS

PATIENT_READ_ONLY_FIELDS = [
    "id",
    "full_name",
    "display_name",
    "age",
    "has_portal_account",
    "consents_email_reminders_at",
    "consents_sms_reminders_at",
    "consents_marketing_at",
    "intake_completed_at",
    "created_at",
    "updated_at",
]


class PatientSerializer(serializers.ModelSerializer):
    """A patient's identity and contact details, as staff see and change them."""

    # Phone numbers are parsed in the clinic's region and go out in E.164 ("+33612345678").
    mobile_phone = PhoneNumberField(required=False, allow_blank=True)
    emergency_contact_phone = PhoneNumberField(required=False, allow_blank=True)
    full_name = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    age = serializers.IntegerField(read_only=True)
    has_portal_account = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [*PATIENT_READ_ONLY_FIELDS, *PATIENT_EDITABLE_FIELDS, "is_active"]
        read_only_fields = PATIENT_READ_ONLY_FIELDS

    def get_has_portal_account(self, patient) -> bool:
        return patient.portal_user_id is not None

    def validate_email(self, value):
        # As the model stores it, so an unchanged address is not recorded as a change.
        return value.strip().lower()


class PatientCreateSerializer(PatientSerializer):
    """A new registration. ``force`` saves it even if it looks like a duplicate."""

    force = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text=_("Register the patient even though likely duplicates exist."),
    )

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "force"]
        # A new record is always active; archiving is a change to an existing one.
        read_only_fields = [*PATIENT_READ_ONLY_FIELDS, "is_active"]


class ForceQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=False,
        required=False,
        help_text=_("Register the patient even though likely duplicates exist."),
    )


class DuplicateCandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    date_of_birth = serializers.DateField()
    email = serializers.CharField()
    mobile_phone = serializers.CharField()


class DuplicateConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    candidates = DuplicateCandidateSerializer(many=True)


# What the patient sees of their own record: no clinic notes.
PORTAL_VISIBLE_FIELDS = [f for f in PatientSerializer.Meta.fields if f not in {"notes"}]


class PortalPatientSerializer(PatientSerializer):
    """The logged-in patient's own record; only ``PORTAL_EDITABLE_FIELDS`` can be changed."""

    class Meta(PatientSerializer.Meta):
        fields = PORTAL_VISIBLE_FIELDS
        read_only_fields = [f for f in PORTAL_VISIBLE_FIELDS if f not in PORTAL_EDITABLE_FIELDS]


class AllergySerializer(serializers.ModelSerializer):
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity"]


class MedicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Medication
        fields = ["name", "dose", "is_anticoagulant", "is_antiplatelet"]


class MedicalHistoryInputSerializer(serializers.ModelSerializer):
    """A new version of the intake questionnaire, with its allergies and medications."""

    allergies = AllergySerializer(many=True, required=False, default=list)
    medications = MedicationSerializer(many=True, required=False, default=list)

    class Meta:
        model = MedicalHistory
        fields = [*HISTORY_FIELDS, "allergies", "medications"]


class MedicalHistorySerializer(serializers.ModelSerializer):
    """One version of a patient's medical history."""

    submitted_by_name = serializers.CharField(
        source="submitted_by.full_name", read_only=True, allow_null=True, default=None
    )
    bmi = serializers.FloatField(read_only=True, allow_null=True)
    allergies = AllergySerializer(many=True, read_only=True)
    medications = MedicationSerializer(many=True, read_only=True)

    class Meta:
        model = MedicalHistory
        fields = [
            "id",
            "version",
            "submitted_at",
            "submitted_by_name",
            "source",
            *HISTORY_FIELDS,
            "bmi",
            "allergies",
            "medications",
        ]
        read_only_fields = fields


class AcknowledgementSerializer(serializers.ModelSerializer):
    acknowledged_by_name = serializers.CharField(source="acknowledged_by.full_name")

    class Meta:
        model = AlertAcknowledgement
        fields = ["id", "alert_key", "note", "acknowledged_by_name", "acknowledged_at"]
        read_only_fields = fields


class AlertSerializer(serializers.Serializer):
    """An allergy, blood-thinning medication or contraindication on the current history."""

    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=["allergy", "medication", "condition"])
    label = serializers.CharField()
    detail = serializers.CharField()
    severe = serializers.BooleanField()
    acknowledgement = AcknowledgementSerializer(allow_null=True)


class AlertAcknowledgeSerializer(serializers.Serializer):
    alert_key = serializers.CharField(max_length=160)
    note = serializers.CharField(help_text=_("How the practitioner handles the alert."))


class ConsentTemplateBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentTemplate
        fields = ["id", "kind", "version", "title"]
        read_only_fields = fields


class ConsentSignatureSerializer(serializers.ModelSerializer):
    """A signed consent. The drawn signature itself is never sent."""

    template = ConsentTemplateBriefSerializer(read_only=True)
    is_valid = serializers.BooleanField(read_only=True)

    class Meta:
        model = ConsentSignature
        fields = [
            "id",
            "template",
            "signed_name",
            "signed_at",
            "signed_via",
            "withdrawn_at",
            "withdrawal_reason",
            "is_valid",
        ]
        read_only_fields = fields


class ConsentSignSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(queryset=ConsentTemplate.objects.all())
    signed_name = serializers.CharField(max_length=200)
    signature = serializers.CharField(
        help_text=_("The drawn signature as a data URL: data:image/png;base64,...")
    )


class ConsentWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
