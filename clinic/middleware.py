from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.utils.cache import add_never_cache_headers, patch_cache_control

from . import audit


class AuditContextMiddleware:
    """Makes the current request available to ``clinic.audit`` for the IP and actor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.bind_request(request)
        try:
            return self.get_response(request)
        finally:
            audit.unbind_request(token)


class NoStoreForAuthenticatedMiddleware:
    """Pages and API answers for a logged-in user must never sit in a shared or browser cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True, no_store=True)
        return response


class ClinicLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Deny by default for pages. Under /api/v1/ the API's own authentication (session or
    token) runs inside DRF, so there DRF's ``IsAuthenticated`` default answers 401/403 instead
    of a redirect to the login page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/v1/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
