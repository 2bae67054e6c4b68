from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import setup_views, views


def _login_first(view):
    """DRF views opt out of LoginRequiredMiddleware; the schema and its UI opt back in."""
    wrapped = login_required(view)
    wrapped.login_required = True
    return wrapped


admin.site.site_header = "Mesoclinic administration"
admin.site.site_title = "Mesoclinic"

# The manager's clinic set-up pages; appointment types are in sessions.urls (setup/types/).
setup_urls = [
    path("", setup_views.index, name="setup_index"),
    path("locations/", setup_views.location_list, name="setup_locations"),
    path("locations/new/", setup_views.location_new, name="setup_location_new"),
    path("locations/<int:pk>/", setup_views.location_edit, name="setup_location_edit"),
    path("locations/<int:pk>/rooms/new/", setup_views.room_new, name="setup_room_new"),
    path("rooms/", setup_views.room_list, name="setup_rooms"),
    path("rooms/<int:pk>/", setup_views.room_edit, name="setup_room_edit"),
    path("practitioners/", setup_views.practitioner_list, name="setup_practitioners"),
    path("practitioners/new/", setup_views.practitioner_new, name="setup_practitioner_new"),
    path(
        "practitioners/<int:pk>/",
        setup_views.practitioner_edit,
        name="setup_practitioner_edit",
    ),
    path("practitioners/<int:pk>/hours/", setup_views.hours_add, name="setup_hours_add"),
    path(
        "practitioners/<int:pk>/hours/<int:block_pk>/remove/",
        setup_views.hours_remove,
        name="setup_hours_remove",
    ),
    path(
        "practitioners/<int:pk>/exceptions/",
        setup_views.exception_add,
        name="setup_exception_add",
    ),
    path(
        "practitioners/<int:pk>/exceptions/<int:exception_pk>/remove/",
        setup_views.exception_remove,
        name="setup_exception_remove",
    ),
    path("settings/", setup_views.clinic_settings, name="setup_settings"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("no-role/", views.no_role, name="no_role"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("clinic.api_urls")),
    path("api/schema/", _login_first(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        _login_first(SpectacularSwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("setup/", include(setup_urls)),
    path("", include("patients.urls")),
    path("", include("sessions.urls")),
    path("", include("consultations.urls")),
    path("", include("billing.urls")),
]
