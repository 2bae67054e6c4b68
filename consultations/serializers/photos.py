"""What the photo API (``consultations.api.photos``) reads and writes. The image itself is
never in the JSON, only the URL of the protected download view."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clinic.areas import BodyArea
from consultations.models import Photo


class PhotoSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text=_("The full-size photo."))
    preview_url = serializers.SerializerMethodField(help_text=_("At most 1600 pixels wide."))
    thumbnail_url = serializers.SerializerMethodField(help_text=_("At most 400 pixels wide."))

    class Meta:
        model = Photo
        fields = [
            "id",
            "patient",
            "consultation",
            "session_record",
            "moment",
            "area",
            "view",
            "sites_marked",
            "taken_at",
            "taken_by",
            "uploaded_at",
            "width",
            "height",
            "original_format",
            "download_url",
            "preview_url",
            "thumbnail_url",
        ]
        read_only_fields = fields

    def _url(self, photo, variant):
        url = reverse("consultations:photo_file", args=[photo.pk, variant])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_download_url(self, photo) -> str:
        return self._url(photo, "full")

    def get_preview_url(self, photo) -> str:
        return self._url(photo, "preview")

    def get_thumbnail_url(self, photo) -> str:
        return self._url(photo, "thumb")


class PhotoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_("JPEG, PNG or HEIC/HEIF, at most 25 MB; metadata is removed.")
    )
    patient = serializers.IntegerField()
    area = serializers.ChoiceField(choices=BodyArea.choices)
    view = serializers.ChoiceField(choices=Photo.View.choices)
    sites_marked = serializers.BooleanField(default=False)
    consultation = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("A draft consultation of the same patient.")
    )
    session_record = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("A draft session record of the same patient (then moment is required)."),
    )
    moment = serializers.ChoiceField(
        choices=Photo.Moment.choices,
        required=False,
        allow_blank=True,
        help_text=_("Before or after injecting: for session photos."),
    )

    def validate(self, attrs):
        if attrs.get("consultation") is not None and attrs.get("session_record") is not None:
            raise serializers.ValidationError(
                {"session_record": [_("A photo belongs to a consultation or a session, not both.")]}
            )
        if attrs.get("session_record") is not None and not attrs.get("moment"):
            raise serializers.ValidationError(
                {"moment": [_("Say whether the photo was taken before or after injecting.")]}
            )
        return attrs

    taken_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Default: the camera's time, else now.")
    )


class PhotoConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
