"""What the session-record and lot APIs share: input validated with errors named by field path
(``areas.1.lot``) and the documented 400 and 409 answers."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.settings import api_settings

from consultations.serializers.session_records import (
    SessionBadInputSerializer,
    SessionConflictSerializer,
)


def _flatten(errors, path=""):
    """DRF's nested errors as the services name them: ``{"areas.1.lot": [...]}``."""
    if isinstance(errors, dict):
        flat = {}
        for key, value in errors.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY and path:
                key_path = path
            else:
                key_path = f"{path}.{key}" if path else str(key)
            for name, messages in _flatten(value, key_path).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    if isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        flat = {}
        for index, value in enumerate(errors):
            for name, messages in _flatten(value, f"{path}.{index}").items():
                flat.setdefault(name, []).extend(messages)
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return {path: [str(m) for m in messages]} if messages else {}


def validated(serializer_class, data, **kwargs):
    """The serializer's data, or a 400 naming each field by its path (areas.1.lot)."""
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        flat = _flatten(serializer.errors)
        first_path, first = next(iter(flat.items()))
        raise serializers.ValidationError({"detail": f"{first_path}: {first[0]}", **flat})
    return serializer.validated_data


BAD_INPUT = OpenApiResponse(
    SessionBadInputSerializer, description=_("Invalid input, by field path")
)
CONFLICT = OpenApiResponse(
    SessionConflictSerializer, description=_("Signed, blocked or not recordable")
)
