"""The treatment-session record API under /api/v1/session-records/: start for an appointment,
the autosave while unsigned, sign with 409 and its blockers, addenda. Practitioners and
managers only; views parse, call a selector, call one service."""

import django_filters
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import audit
from clinic.permissions import Clinicians
from consultations.api.common import BAD_INPUT, CONFLICT, validated
from consultations.models import (
    SessionRecord,
)
from consultations.selectors.photos import photo_queryset_for_user
from consultations.selectors.session_records import (
    session_photos,
    session_record_get_for_user,
    session_records_for_user,
)
from consultations.serializers.session_records import (
    SessionAddendumCreateSerializer,
    SessionAddendumSerializer,
    SessionRecordCreateSerializer,
    SessionRecordSerializer,
    SessionRecordUpdateSerializer,
)
from consultations.services import session_records as services
from sessions.selectors import appointment_get_for_user


def _rows(rows):
    """Nested serializer rows as plain dicts (points included) for the services."""
    if rows is None:
        return None
    return [{k: _rows(v) if k == "points" else v for k, v in dict(row).items()} for row in rows]


# ---- session records ----
FORBIDDEN = OpenApiResponse(description=_("Not this role, or another practitioner's session"))


class SessionRecordFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    course = django_filters.NumberFilter(field_name="appointment__course_id")
    appointment = django_filters.NumberFilter(field_name="appointment_id")
    status = django_filters.ChoiceFilter(choices=SessionRecord.Status.choices)

    class Meta:
        model = SessionRecord
        fields = []


def _with_photos(queryset, user):
    return queryset.prefetch_related(
        Prefetch(
            "photos",
            queryset=photo_queryset_for_user(user).order_by("area", "moment", "id"),
            to_attr="visible_photos",
        )
    )


def _record_response(request, pk, *, code=status.HTTP_200_OK, audit_read=False):
    record = session_record_get_for_user(request.user, pk, audit_read=audit_read)
    record.visible_photos = session_photos(request.user, record)
    body = SessionRecordSerializer(record, context={"with_blockers": True}).data
    return Response(body, status=code)


class SessionRecordListCreate(generics.ListAPIView):
    """Session records, latest session first; filter by patient, course, appointment, status."""

    permission_classes = [Clinicians]
    serializer_class = SessionRecordSerializer
    filterset_class = SessionRecordFilter

    def get_queryset(self):
        return _with_photos(session_records_for_user(self.request.user), self.request.user)

    @extend_schema(summary="Session records, latest session first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rows = response.data["results"]
        patients = sorted({row["patient"] for row in rows})
        audit.record(
            actor=request.user,
            action="session_records.listed",
            patient_id=patients[0] if len(patients) == 1 else None,
            detail={
                "query": request.query_params.urlencode()[:300],
                "patients": patients,
                "records": [row["id"] for row in rows],
            },
        )
        return response

    @extend_schema(
        request=SessionRecordCreateSerializer,
        responses={
            201: SessionRecordSerializer,
            200: OpenApiResponse(SessionRecordSerializer, description=_("It existed already")),
            400: BAD_INPUT,
            403: FORBIDDEN,
            409: CONFLICT,
        },
        summary="Open the record of a checked-in treatment session (or return its record)",
    )
    def post(self, request):
        data = validated(SessionRecordCreateSerializer, request.data)
        try:
            appointment = appointment_get_for_user(request.user, data["appointment"])
        except Http404:
            raise serializers.ValidationError(
                {"detail": _("No such appointment."), "appointment": [_("No such appointment.")]}
            ) from None
        existed = SessionRecord.objects.filter(appointment=appointment).exists()
        record = services.session_record_start(actor=request.user, appointment=appointment)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return _record_response(request, record.pk, code=code)


class SessionRecordDetail(APIView):
    permission_classes = [Clinicians]

    @extend_schema(responses=SessionRecordSerializer, summary="One session record, in full")
    def get(self, request, pk):
        return _record_response(request, pk, audit_read=True)

    @extend_schema(
        request=SessionRecordUpdateSerializer,
        responses={200: SessionRecordSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 409: CONFLICT},
        summary="Save what was recorded so far (the autosave); lists replace; 409 once signed",
    )
    def patch(self, request, pk):
        record = session_record_get_for_user(request.user, pk, audit_read=False)
        values = dict(validated(SessionRecordUpdateSerializer, request.data))
        lists = {
            name: _rows(values.pop(name, None))
            for name in ("side_effects", "areas", "adverse_events", "assessments")
        }
        services.session_record_save_draft(actor=request.user, record=record, data=values, **lists)
        return _record_response(request, pk)


class SessionRecordSign(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=None,
        responses={200: SessionRecordSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Complete the session: sign (409 with the blockers, or when signed already)",
    )
    def post(self, request, pk):
        record = session_record_get_for_user(request.user, pk, audit_read=False)
        services.session_record_sign(actor=request.user, record=record)
        return _record_response(request, pk)


class SessionRecordAddenda(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=SessionAddendumCreateSerializer,
        responses={201: SessionAddendumSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 409: CONFLICT},
        summary="Add an addendum to a signed session record",
    )
    def post(self, request, pk):
        record = session_record_get_for_user(request.user, pk, audit_read=False)
        data = validated(SessionAddendumCreateSerializer, request.data)
        addendum = services.session_addendum_add(
            actor=request.user, record=record, text=data["text"]
        )
        return Response(SessionAddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)
