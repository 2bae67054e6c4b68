from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from clinic.errors import ApplicationError


def add_service_error(form, exc):
    """Show a service's ``ApplicationError`` or model ``ValidationError`` on the form, at the
    field it names when the form has that field, so the user's entries stay on screen."""
    if isinstance(exc, ApplicationError):
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
        return
    form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))


__all__ = ["NON_FIELD_ERRORS", "add_service_error"]
