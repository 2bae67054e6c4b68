"""Helpers the consultations services share: a model's validation as an ``ApplicationError``
naming the field, and an id or instance turned into the instance."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clinic.errors import ApplicationError


def clean_row(instance, *, exclude, prefix=""):
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:  # name the row and the field
        field, messages = next(iter(exc.message_dict.items()))
        name = f"{prefix}{field}" if field != "__all__" else prefix.rstrip(".") or None
        raise ApplicationError(messages[0], field=name) from exc


def as_instance(model, value, field, message):
    if value is None or value == "":
        raise ApplicationError(_("This field is required."), field=field)
    if isinstance(value, model):
        return value
    try:
        return model.objects.get(pk=value)
    except (model.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(message, field=field) from None
