from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_migrate
from django.dispatch import receiver

from . import audit
from .models import User
from .roles import sync_role_permissions


@receiver(post_migrate)
def _sync_roles_after_migrate(sender, using="default", **kwargs):
    # Runs after each app's migrations; cheap and idempotent.
    if sender.label == "clinic" or sender.name == "billing":
        sync_role_permissions(using=using)


@receiver(user_logged_in)
def _audit_login(sender, request, user, **kwargs):
    audit.record(actor=user, action="auth.login", request=request, target=user)


@receiver(user_logged_out)
def _audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action="auth.logout", request=request, target=user)


@receiver(user_login_failed)
def _audit_failed_login(sender, credentials, request=None, **kwargs):
    audit.record(
        actor=None,
        action="auth.login_failed",
        request=request,
        outcome=audit.Outcome.FAILURE,
        detail={"email": str(credentials.get("username") or credentials.get("email") or "")},
    )


@receiver(m2m_changed, sender=User.groups.through)
def _audit_role_change(sender, instance, action, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"} or not isinstance(instance, User):
        return
    from django.contrib.auth.models import Group

    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    audit.record(
        actor=audit.current_actor(),
        action="auth.role_changed",
        target=instance,
        detail={"change": action.removeprefix("post_"), "groups": names},
    )
