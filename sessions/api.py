"""The scheduling REST API under /api/v1/: appointments, availability and courses for staff,
``me/appointments/`` for the patient. Views parse, call a selector, call one service."""

import django_filters
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import audit
from clinic.errors import ApplicationError
from clinic.permissions import FrontDesk, IsPortalUser, SchedulingStaff
from patients.selectors import patient_for_portal_user
from sessions import selectors, services
from sessions.models import Appointment, AppointmentStatus
from sessions.serializers import (
    AddSessionSerializer,
    AppointmentCreateSerializer,
    AppointmentSerializer,
    AvailabilityQuerySerializer,
    CancelSerializer,
    ConflictSerializer,
    CourseBookSerializer,
    CourseProposeSerializer,
    CourseSerializer,
    MyAppointmentSerializer,
    PortalCancelSerializer,
    PortalRequestSerializer,
    ProposalSerializer,
    RescheduleRequestSerializer,
    RescheduleSerializer,
    SlotSerializer,
    place_in_zone,
)

CONFLICT = OpenApiResponse(ConflictSerializer, description=_("Clash or illegal status change"))


class CalendarPagination(PageNumberPagination):
    """The calendar asks for a whole week at once (``page_size`` up to 1000)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class AppointmentFilter(django_filters.FilterSet):
    """Query parameters; range and scoping come from ``selectors.appointments_in_range``."""

    start = django_filters.IsoDateTimeFilter(method="noop", label=_("Range start (ISO 8601)"))
    end = django_filters.IsoDateTimeFilter(method="noop", label=_("Range end (ISO 8601)"))
    practitioner = django_filters.NumberFilter(field_name="practitioner_id")
    room = django_filters.NumberFilter(field_name="room_id")
    patient = django_filters.NumberFilter(field_name="patient_id")
    location = django_filters.NumberFilter(field_name="location_id")
    status = django_filters.MultipleChoiceFilter(choices=AppointmentStatus.choices)

    class Meta:
        model = Appointment
        fields = []

    def noop(self, queryset, name, value):
        return queryset


class AppointmentListCreate(generics.ListAPIView):
    """Appointments overlapping ``start``..``end`` (default: the coming week), filtered."""

    serializer_class = AppointmentSerializer
    pagination_class = CalendarPagination
    filterset_class = AppointmentFilter

    def get_permissions(self):
        return [FrontDesk()] if self.request.method == "POST" else [SchedulingStaff()]

    def get_queryset(self):
        params = self.request.query_params
        start = parse_datetime(params.get("start", "") or "") or timezone.now()
        end = parse_datetime(params.get("end", "") or "") or start + timezone.timedelta(days=7)
        if timezone.is_naive(start) or timezone.is_naive(end):
            raise ApplicationError(str(_("start and end need a time zone offset.")), field="start")
        return selectors.appointments_in_range(self.request.user, start=start, end=end)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        page = selectors.with_alerts(page)
        audit.record(
            actor=request.user,
            action="appointments.listed",
            detail={"query": request.query_params.urlencode()[:300], "rows": len(page)},
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=AppointmentCreateSerializer,
        responses={201: AppointmentSerializer, 409: CONFLICT},
        summary="Book an appointment",
    )
    def post(self, request):
        data = AppointmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        zone = v["location"].zone
        appointment = services.appointment_book(
            actor=request.user,
            patient=v["patient"],
            practitioner=v["practitioner"],
            location=v["location"],
            appointment_type=v["type"],
            room=v.get("room"),
            starts_at=place_in_zone(v["start"], zone, "start"),
            ends_at=place_in_zone(v.get("end"), zone, "end"),
            notes=v.get("notes", ""),
            allow_outside_hours=v["allow_outside_hours"],
        )
        appointment = selectors.appointment_get_for_user(request.user, appointment.pk)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class AppointmentDetail(APIView):
    def get_permissions(self):
        return [FrontDesk()] if self.request.method == "PATCH" else [SchedulingStaff()]

    @extend_schema(responses=AppointmentSerializer, summary="One appointment")
    def get(self, request, pk):
        appointment = selectors.appointment_get_for_user(request.user, pk)
        return Response(AppointmentSerializer(selectors.with_alerts([appointment])[0]).data)

    @extend_schema(
        request=RescheduleSerializer,
        responses={200: AppointmentSerializer, 409: CONFLICT},
        summary="Reschedule (optionally every later session of the course too)",
    )
    def patch(self, request, pk):
        appointment = selectors.appointment_get_for_user(request.user, pk)
        data = RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        zone = appointment.location.zone
        moved = services.appointment_reschedule(
            actor=request.user,
            appointment=appointment,
            starts_at=place_in_zone(v["start"], zone, "start"),
            ends_at=place_in_zone(v.get("end"), zone, "end"),
            shift_later=v["shift_later"],
            allow_outside_hours=v["allow_outside_hours"],
        )
        moved = selectors.appointment_get_for_user(request.user, moved.pk)
        return Response(AppointmentSerializer(moved).data)


class _Transition(APIView):
    """POST moves the appointment to another status; 409 if the rules forbid it."""

    permission_classes = [FrontDesk]
    service = None

    @extend_schema(request=None, responses={200: AppointmentSerializer, 409: CONFLICT})
    def post(self, request, pk):
        appointment = selectors.appointment_get_for_user(request.user, pk)
        type(self).service(actor=request.user, appointment=appointment)
        appointment = selectors.appointment_get_for_user(request.user, pk)
        return Response(AppointmentSerializer(appointment).data)


class AppointmentCheckIn(_Transition):
    service = services.appointment_check_in


class AppointmentConfirm(_Transition):
    service = services.appointment_confirm


class AppointmentNoShow(_Transition):
    service = services.appointment_mark_no_show


class AppointmentStart(_Transition):
    permission_classes = [SchedulingStaff]
    service = services.appointment_start


class AppointmentComplete(_Transition):
    permission_classes = [SchedulingStaff]
    service = services.appointment_complete


class AppointmentCancel(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        request=CancelSerializer,
        responses={200: AppointmentSerializer, 409: CONFLICT},
        summary="Cancel, by the clinic or on the patient's behalf; says whether it was late",
    )
    def post(self, request, pk):
        appointment = selectors.appointment_get_for_user(request.user, pk)
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cancelled = services.appointment_cancel(
            actor=request.user,
            appointment=appointment,
            by_patient=data.validated_data["by_patient"],
            reason=data.validated_data["reason"],
        )
        body = AppointmentSerializer(selectors.appointment_get_for_user(request.user, pk)).data
        body["cancelled_late"] = cancelled.cancelled_late
        return Response(body)


class Availability(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        parameters=[AvailabilityQuerySerializer],
        responses=SlotSerializer(many=True),
        summary="Free slots for a type over local dates",
    )
    def get(self, request):
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        slots, _diary = selectors.available_slots(
            appointment_type=v["type"],
            location=v["location"],
            first_day=v["start"],
            last_day=v.get("end") or v["start"],
            practitioner=v.get("practitioner"),
            room=v.get("room"),
            patient=v.get("patient"),
            step_minutes=v["step"],
        )
        return Response(SlotSerializer(slots, many=True, context={"zone": v["location"].zone}).data)


class CourseProposals(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        request=CourseProposeSerializer,
        responses=ProposalSerializer(many=True),
        summary="Propose the dates of a course (nothing is booked)",
    )
    def post(self, request):
        data = CourseProposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        proposals = services.course_propose(
            patient=v["patient"],
            practitioner=v["practitioner"],
            location=v["location"],
            appointment_type=v["type"],
            room=v.get("room"),
            sessions=v["sessions"],
            interval_days=v["interval_days"],
            first_day=v["first_day"],
            weekday=v.get("weekday"),
            at_time=v["time"],
            allow_outside_hours=v["allow_outside_hours"],
        )
        return Response(
            ProposalSerializer(proposals, many=True, context={"zone": v["location"].zone}).data
        )


class CourseListCreate(generics.ListAPIView):
    serializer_class = CourseSerializer
    pagination_class = CalendarPagination

    def get_permissions(self):
        return [FrontDesk()] if self.request.method == "POST" else [SchedulingStaff()]

    @extend_schema(
        parameters=[OpenApiParameter("patient", OpenApiTypes.INT)],
        summary="Courses, optionally of one patient",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = selectors.course_queryset_for_user(self.request.user)
        patient = self.request.query_params.get("patient")
        if patient:
            if not patient.isdigit():
                raise serializers.ValidationError({"patient": [_("A patient id.")]})
            queryset = queryset.filter(patient_id=int(patient))
        return queryset

    @extend_schema(
        request=CourseBookSerializer,
        responses={201: CourseSerializer, 409: CONFLICT},
        summary="Book a whole course, all sessions or none",
    )
    def post(self, request):
        data = CourseBookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        zone = v["location"].zone
        course = services.course_book(
            actor=request.user,
            patient=v["patient"],
            practitioner=v["practitioner"],
            location=v["location"],
            appointment_type=v["type"],
            room=v.get("room"),
            interval_days=v["interval_days"],
            starts=[place_in_zone(s, zone, f"starts.{i}") for i, s in enumerate(v["starts"])],
            areas=v["areas"],
            notes=v.get("notes", ""),
            allow_outside_hours=v["allow_outside_hours"],
        )
        course = selectors.course_get_for_user(request.user, course.pk)
        return Response(CourseSerializer(course).data, status=status.HTTP_201_CREATED)


class CourseDetail(APIView):
    permission_classes = [SchedulingStaff]

    @extend_schema(responses=CourseSerializer, summary="A course with its sessions and progress")
    def get(self, request, pk):
        return Response(CourseSerializer(selectors.course_get_for_user(request.user, pk)).data)


class CourseAddSession(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        request=AddSessionSerializer,
        responses={201: AppointmentSerializer, 409: CONFLICT},
        summary="Add a session at the end (a replacement); without start, at the proposed slot",
    )
    def post(self, request, pk):
        course = selectors.course_get_for_user(request.user, pk)
        data = AddSessionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        start = place_in_zone(data.validated_data.get("start"), course.location.zone, "start")
        if start is None:
            proposal = services.course_replacement_proposal(course=course)
            start = proposal and (proposal.start if proposal.ok else proposal.alternative)
            if start is None:
                raise ApplicationError(
                    str(_("Give a start: no free slot was found.")), field="start"
                )
        appointment = services.course_add_session(
            actor=request.user,
            course=course,
            starts_at=start,
            allow_outside_hours=data.validated_data["allow_outside_hours"],
        )
        appointment = selectors.appointment_get_for_user(request.user, appointment.pk)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class PortalInbox(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(responses=PortalRequestSerializer(many=True), summary="Front desk's inbox")
    def get(self, request):
        return Response(
            PortalRequestSerializer(selectors.open_portal_requests(request.user), many=True).data
        )


# --- the patient's own ------------------------------------------------------------------------


class MyAppointments(generics.ListAPIView):
    """The logged-in patient's appointments, newest first."""

    permission_classes = [IsPortalUser]
    serializer_class = MyAppointmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        patient = patient_for_portal_user(self.request.user)
        audit.record(
            actor=self.request.user,
            action="schedule.portal_viewed",
            target=patient,
            patient_id=patient.pk,
        )
        return (
            selectors.appointment_queryset_for_user(self.request.user)
            .filter(patient=patient)
            .order_by("-starts_at")
        )


class _MyAppointmentAction(APIView):
    permission_classes = [IsPortalUser]

    def _get(self, request, pk):
        patient = patient_for_portal_user(request.user)
        return patient, selectors.appointment_get_for_user(request.user, pk)


class MyAppointmentCancel(_MyAppointmentAction):
    @extend_schema(
        request=PortalCancelSerializer,
        responses={200: MyAppointmentSerializer, 409: CONFLICT},
        summary="Cancel my appointment (refused inside the cancellation window)",
    )
    def post(self, request, pk):
        patient, appointment = self._get(request, pk)
        data = PortalCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.portal_appointment_cancel(
            actor=request.user,
            patient=patient,
            appointment=appointment,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(MyAppointmentSerializer(self._get(request, pk)[1]).data)


class MyAppointmentConfirm(_MyAppointmentAction):
    @extend_schema(request=None, responses={200: MyAppointmentSerializer, 409: CONFLICT})
    def post(self, request, pk):
        patient, appointment = self._get(request, pk)
        services.portal_appointment_confirm(
            actor=request.user, patient=patient, appointment=appointment
        )
        return Response(MyAppointmentSerializer(self._get(request, pk)[1]).data)


class MyAppointmentRescheduleRequest(_MyAppointmentAction):
    @extend_schema(
        request=RescheduleRequestSerializer,
        responses={201: PortalRequestSerializer, 409: CONFLICT},
        summary="Ask the clinic to move my appointment",
    )
    def post(self, request, pk):
        patient, appointment = self._get(request, pk)
        data = RescheduleRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        portal_request = services.portal_reschedule_request(
            actor=request.user,
            patient=patient,
            appointment=appointment,
            message=data.validated_data["message"],
        )
        return Response(
            PortalRequestSerializer(portal_request).data, status=status.HTTP_201_CREATED
        )
