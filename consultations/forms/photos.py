from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea
from consultations.models import Consultation, Photo

# What the file inputs accept: every image type the browser knows, plus HEIC/HEIF by name
# (desktop browsers often do not map .heic to image/*). The server checks the content anyway.
PHOTO_ACCEPT = "image/*,.heic,.heif"
MAX_FILES_PER_UPLOAD = 20


class PhotoUploadForm(forms.Form):
    """What applies to every photo of one upload; the files themselves come from the inputs
    named ``photos`` (several chosen or dropped, or one from the camera). Validates only; the
    view calls ``photo_add`` once per file."""

    area = forms.ChoiceField(label=_("Area"), choices=[("", "---------"), *BodyArea.choices])
    view = forms.ChoiceField(label=_("View"), choices=[("", "---------"), *Photo.View.choices])
    sites_marked = forms.BooleanField(label=_("Injection sites marked"), required=False)
    consultation = forms.ModelChoiceField(
        label=_("Consultation"),
        queryset=Consultation.objects.none(),
        required=False,
        empty_label=_("Not part of a consultation"),
        help_text=_("Photos can be added to a consultation until it is signed."),
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultation"].queryset = Consultation.objects.filter(
            patient=patient, status=Consultation.Status.DRAFT
        ).order_by("-created_at")
        self.fields["consultation"].label_from_instance = lambda c: (
            _("Consultation of %s") % (f"{c.created_at:%Y-%m-%d}")
        )

    def uploaded_photos(self):
        return self.files.getlist("photos") if self.files else []

    def clean(self):
        cleaned = super().clean()
        photos = self.uploaded_photos()
        if not photos:
            raise forms.ValidationError(_("Choose, drop or take at least one photo."))
        if len(photos) > MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                _("Upload at most %(count)d photos at a time.") % {"count": MAX_FILES_PER_UPLOAD}
            )
        return cleaned


class PhotoCompareForm(forms.Form):
    """The area and view to compare, from the query string."""

    area = forms.ChoiceField(label=_("Area"), choices=BodyArea.choices)
    view = forms.ChoiceField(label=_("View"), choices=Photo.View.choices)
    left = forms.IntegerField(required=False, widget=forms.HiddenInput)
    right = forms.IntegerField(required=False, widget=forms.HiddenInput)
