"""The photo REST API under /api/v1/: photo records for staff (photos/) and, when the clinic
shows photos in the portal, the patient's own (me/photos/). The image itself is never in the
JSON, only the URL of the protected download view."""

import django_filters
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from clinic import audit
from clinic.areas import BodyArea
from clinic.permissions import is_portal_user, is_staff_user
from consultations.models import Consultation, Photo, SessionRecord
from consultations.selectors import photos as selectors
from consultations.serializers.photos import (
    PhotoConflictSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
)
from consultations.services.photos import photo_add
from patients.selectors import patient_for_portal_user, patient_get_for_user


class PhotoReaders(BasePermission):
    """Staff whose role sees photos: practitioners and managers, front desk if allowed."""

    message = _("Your role may not see photos.")

    def has_permission(self, request, view):
        user = request.user
        return is_staff_user(user) and selectors.can_view_any_photos(user)


class PhotoUploaders(BasePermission):
    message = _("Only practitioners and managers can add photos.")

    def has_permission(self, request, view):
        return is_staff_user(request.user) and selectors.can_add_photos(request.user)


class PhotoFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    consultation = django_filters.NumberFilter(field_name="consultation_id")
    session_record = django_filters.NumberFilter(field_name="session_record_id")
    moment = django_filters.ChoiceFilter(choices=Photo.Moment.choices)
    area = django_filters.ChoiceFilter(choices=BodyArea.choices)
    view = django_filters.ChoiceFilter(choices=Photo.View.choices)
    sites_marked = django_filters.BooleanFilter()

    class Meta:
        model = Photo
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Injection-site photos, oldest first"),
    retrieve=extend_schema(summary="One photo's record (the image: its download_url)"),
    create=extend_schema(
        summary="Upload an injection-site photo",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoSerializer,
            400: OpenApiResponse(description="Not a usable photo (field file) or bad input."),
            409: OpenApiResponse(
                PhotoConflictSerializer,
                description="No valid photographs consent, or the consultation is signed.",
            ),
        },
    ),
)
class PhotoViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Photos for practitioners and managers (front desk when the clinic allows it)."""

    serializer_class = PhotoSerializer
    filterset_class = PhotoFilter
    parser_classes = [MultiPartParser, FormParser]

    def get_permissions(self):
        return [PhotoUploaders()] if self.request.method == "POST" else [PhotoReaders()]

    def get_queryset(self):
        return selectors.photo_queryset_for_user(self.request.user).order_by("taken_at", "id")

    def get_object(self):
        return selectors.photo_get_for_user(self.request.user, self.kwargs["pk"])

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        audit.record(
            actor=request.user,
            action="photos.listed",
            detail={
                "query": request.query_params.urlencode()[:300],
                "rows": len(response.data["results"]),
            },
        )
        return response

    def create(self, request, *args, **kwargs):
        upload = PhotoUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        try:
            patient = patient_get_for_user(request.user, data["patient"], audit_read=False)
        except Http404 as exc:
            raise serializers.ValidationError({"patient": [_("No such patient.")]}) from exc
        consultation = None
        if data.get("consultation") is not None:
            consultation = Consultation.objects.filter(pk=data["consultation"]).first()
            if consultation is None:
                raise serializers.ValidationError({"consultation": [_("No such consultation.")]})
        record = None
        if data.get("session_record") is not None:
            record = SessionRecord.objects.filter(pk=data["session_record"]).first()
            if record is None:
                raise serializers.ValidationError(
                    {"session_record": [_("No such session record.")]}
                )
        photo = photo_add(
            actor=request.user,
            patient=patient,
            uploaded_file=data["file"],
            area=data["area"],
            view=data["view"],
            sites_marked=data["sites_marked"],
            consultation=consultation,
            session_record=record,
            moment=data.get("moment") or "",
            taken_at=data.get("taken_at"),
        )
        body = PhotoSerializer(photo, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class PortalPhotoReaders(BasePermission):
    message = _("The clinic does not show photos in the portal.")

    def has_permission(self, request, view):
        return is_portal_user(request.user) and selectors.can_view_any_photos(request.user)


@extend_schema_view(get=extend_schema(summary="The logged-in patient's own photos"))
class MyPhotos(generics.ListAPIView):
    """The patient's own photos, when the clinic shows photos in the portal (403 otherwise)."""

    permission_classes = [PortalPhotoReaders]
    serializer_class = PhotoSerializer
    filterset_class = PhotoFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Photo.objects.none()
        patient = patient_for_portal_user(self.request.user)
        audit.record(actor=self.request.user, action="photos.portal_viewed", patient_id=patient.pk)
        return (
            selectors.photo_queryset_for_user(self.request.user)
            .filter(patient=patient)
            .order_by("taken_at", "id")
        )
