"""Who may open which page or endpoint. Object-level access lives in each app's selectors."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from .roles import CLINICAL_ROLES, DESK_ROLES, STAFF_ROLES, Role


def _require(test):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_staff_user(user):
    return user.is_authenticated and user.is_active and user.has_perm("clinic.access_staff_pages")


def is_portal_user(user):
    return (
        user.is_authenticated and user.is_active and user.has_perm("clinic.access_patient_portal")
    )


def has_role(user, *roles):
    return user.is_authenticated and user.is_active and user.role in roles


staff_required = _require(is_staff_user)
portal_required = _require(is_portal_user)


def role_required(*roles):
    return _require(lambda user: has_role(user, *roles))


def manager_required(view):
    return role_required(Role.MANAGER)(view)


desk_required = role_required(*DESK_ROLES)
clinician_required = role_required(*CLINICAL_ROLES)
staff_role_required = role_required(*STAFF_ROLES)


class IsClinicStaff(BasePermission):
    message = "This is for the clinic's staff only."

    def has_permission(self, request, view):
        return is_staff_user(request.user)


class IsPortalUser(BasePermission):
    message = "This is for patients using the portal only."

    def has_permission(self, request, view):
        return is_portal_user(request.user)


def roles_permission(*roles):
    """A DRF permission class allowing only the given roles."""

    class _HasRole(BasePermission):
        message = "Your role may not do this."

        def has_permission(self, request, view):
            return has_role(request.user, *roles)

    _HasRole.__name__ = "HasRole_" + "_".join(r.name for r in roles)
    return _HasRole


FrontDesk = roles_permission(*DESK_ROLES)
Clinicians = roles_permission(*CLINICAL_ROLES)
SchedulingStaff = roles_permission(*STAFF_ROLES)
Managers = roles_permission(Role.MANAGER)
