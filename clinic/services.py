from django.contrib.auth.models import Group
from django.db import transaction

from . import audit
from .models import User
from .roles import Role


@transaction.atomic
def user_create(*, actor, email, password, full_name="", role):
    """Create a login with one role. Managers (and set-up commands with ``actor=None``)."""
    user = User(email=email, full_name=full_name)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user_set_role(actor=actor, user=user, role=role)
    audit.record(actor=actor, action="user.created", target=user, detail={"role": role.label_en})
    return user


@transaction.atomic
def user_set_role(*, actor, user, role):
    """Give ``user`` exactly one role. Only managers get the Django admin (``is_staff``).

    Role changes are audited by the ``m2m_changed`` receiver in ``clinic.signals``.
    """
    group = Group.objects.get(name=role.label_en)
    user.groups.set([group])
    user.is_staff = role is Role.MANAGER
    user.save(update_fields=["is_staff"])
    user._role_cache = role
    if hasattr(user, "_perm_cache"):
        del user._perm_cache
    if hasattr(user, "_group_perm_cache"):
        del user._group_perm_cache
    return user
