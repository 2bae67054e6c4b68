from django.utils.functional import SimpleLazyObject

from .roles import Role


def _clinic_name():
    from .models import ClinicSettings

    return ClinicSettings.load().name


def _portal_shows_photos():
    from .models import ClinicSettings

    return ClinicSettings.load().portal_shows_photos


def clinic(request):
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    return {
        "current_role": role,
        "Role": {r.name: r for r in Role},
        # Only read (one query) by pages that show it: the public pages' header.
        "clinic_name": SimpleLazyObject(_clinic_name),
        "portal_shows_photos": SimpleLazyObject(_portal_shows_photos),
    }
