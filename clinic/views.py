from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from .forms import EmailLoginForm
from .roles import Role

LANDING_PAGE_BY_ROLE = {
    Role.MANAGER: "treatment_sessions:today",
    Role.FRONT_DESK: "treatment_sessions:today",
    Role.PRACTITIONER: "treatment_sessions:my_day",
    Role.PATIENT: "treatment_sessions:my_schedule",
}


class LoginView(auth_views.LoginView):
    form_class = EmailLoginForm
    redirect_authenticated_user = True


@require_GET
def home(request):
    """Send each user to their role's landing page."""
    target = LANDING_PAGE_BY_ROLE.get(request.user.role)
    if target is None:
        return redirect("no_role")
    return redirect(target)


@require_GET
def no_role(request):
    from django.shortcuts import render

    return render(request, "clinic/no_role.html", status=403)


def lockout_response(request, original_response, credentials):
    """django-axes lockout: JSON 429 for the API, a page explaining the lock for browsers."""
    from django.conf import settings
    from django.http import JsonResponse
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {
                "detail": "Too many failed log-in attempts: "
                f"this account is locked for {minutes} minutes."
            },
            status=429,
        )
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
