"""The messages API under /api/v1/: front desk's outbox (list, filter, one message, send a
failed one again) and the reminder policy (read by front desk, changed by managers)."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import audit
from clinic.permissions import FrontDesk, Managers
from sessions.messaging import selectors as reminder_selectors
from sessions.messaging import services
from sessions.messaging.services import POLICY_FIELDS
from sessions.models import MAX_REMINDER_HOURS, MessageChannel, OutboundMessage


class MessageConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField(required=False)


CONFLICT = OpenApiResponse(
    MessageConflictSerializer, description=_("The message is not in a state that allows it")
)


class MessageSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    scheduled_for = serializers.SerializerMethodField()
    next_attempt_at = serializers.SerializerMethodField()
    sent_at = serializers.SerializerMethodField()
    can_resend = serializers.SerializerMethodField()

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "patient",
            "patient_name",
            "appointment",
            "kind",
            "channel",
            "hours_before",
            "status",
            "status_reason",
            "last_error",
            "attempts",
            "recipient",
            "subject",
            "provider_id",
            "scheduled_for",
            "next_attempt_at",
            "sent_at",
            "can_resend",
        ]
        read_only_fields = fields

    def _local(self, message, value):
        if value is None:
            return None
        return timezone.localtime(value, message.appointment.location.zone).isoformat()

    def get_scheduled_for(self, message) -> str:
        return self._local(message, message.scheduled_for)

    def get_next_attempt_at(self, message) -> str | None:
        if message.status != OutboundMessage.Status.SCHEDULED:
            return None
        return self._local(message, message.next_attempt_at)

    def get_sent_at(self, message) -> str | None:
        return self._local(message, message.sent_at)

    def get_can_resend(self, message) -> bool:
        return message.status == OutboundMessage.Status.FAILED


class MessageFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OutboundMessage.Status.choices)
    channel = django_filters.ChoiceFilter(choices=MessageChannel.choices)
    kind = django_filters.MultipleChoiceFilter(choices=OutboundMessage.Kind.choices)
    patient = django_filters.NumberFilter(field_name="patient_id")
    appointment = django_filters.NumberFilter(field_name="appointment_id")
    due_after = django_filters.IsoDateTimeFilter(
        field_name="scheduled_for", lookup_expr="gte", label=_("Due at or after (ISO 8601)")
    )
    due_before = django_filters.IsoDateTimeFilter(
        field_name="scheduled_for", lookup_expr="lt", label=_("Due before (ISO 8601)")
    )

    class Meta:
        model = OutboundMessage
        fields = []


class MessageList(generics.ListAPIView):
    """Messages to patients, newest due first: reminders, aftercare, follow-ups, nudges."""

    permission_classes = [FrontDesk]
    serializer_class = MessageSerializer
    filterset_class = MessageFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OutboundMessage.objects.none()
        return reminder_selectors.outbox_queryset(self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        audit.record(
            actor=request.user,
            action="messages.listed",
            detail={"query": request.query_params.urlencode()[:300]},
        )
        return response


class MessageDetail(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(responses=MessageSerializer, summary="One message to a patient")
    def get(self, request, pk):
        message = reminder_selectors.message_get_for_user(request.user, pk)
        audit.record(
            actor=request.user,
            action="message.viewed",
            target=message,
            patient_id=message.patient_id,
        )
        return Response(MessageSerializer(message).data)


class MessageResend(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        request=None,
        responses={200: MessageSerializer, 409: CONFLICT},
        summary="Send a failed message again",
    )
    def post(self, request, pk):
        message = reminder_selectors.message_get_for_user(request.user, pk)
        services.message_resend(actor=request.user, message=message)
        return Response(
            MessageSerializer(reminder_selectors.message_get_for_user(request.user, pk)).data
        )


class ReminderRuleSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=MessageChannel.choices)
    hours_before = serializers.IntegerField(min_value=1, max_value=MAX_REMINDER_HOURS)
    is_active = serializers.BooleanField(default=True)


class ReminderPolicySerializer(serializers.Serializer):
    quiet_hours_start = serializers.TimeField(format="%H:%M")
    quiet_hours_end = serializers.TimeField(format="%H:%M")
    quiet_hours_for_email = serializers.BooleanField()
    minimum_notice_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60)
    aftercare_enabled = serializers.BooleanField()
    follow_up_enabled = serializers.BooleanField()
    follow_up_after_hours = serializers.IntegerField(min_value=1, max_value=7 * 24)
    book_next_enabled = serializers.BooleanField()
    book_next_after_hours = serializers.IntegerField(min_value=1, max_value=30 * 24)
    rules = ReminderRuleSerializer(many=True)


def _policy_data():
    policy, rules = reminder_selectors.reminder_policy_with_rules()
    data = {name: getattr(policy, name) for name in POLICY_FIELDS}
    data["rules"] = [
        {"channel": r.channel, "hours_before": r.hours_before, "is_active": r.is_active}
        for r in rules
    ]
    return ReminderPolicySerializer(data).data


class ReminderPolicyView(APIView):
    """The clinic's reminder policy: which reminders, how long before, quiet hours, and the
    messages after a session. Changing it plans every upcoming appointment's reminders again."""

    def get_permissions(self):
        return [FrontDesk()] if self.request.method == "GET" else [Managers()]

    @extend_schema(responses=ReminderPolicySerializer, summary="The reminder policy")
    def get(self, request):
        return Response(_policy_data())

    def _save(self, request, partial):
        data = ReminderPolicySerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        rules = values.pop("rules", None)
        services.reminder_policy_update(actor=request.user, data=values, rules=rules)
        return Response(_policy_data())

    @extend_schema(
        request=ReminderPolicySerializer,
        responses=ReminderPolicySerializer,
        summary="Replace the reminder policy and its rules",
    )
    def put(self, request):
        return self._save(request, partial=False)

    @extend_schema(
        request=ReminderPolicySerializer,
        responses=ReminderPolicySerializer,
        summary="Change part of the reminder policy (rules, when given, are replaced whole)",
    )
    def patch(self, request):
        return self._save(request, partial=True)
