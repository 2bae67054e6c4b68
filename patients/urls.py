from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("patients/", views.patient_list, name="list"),
    path("patients/new/", views.patient_create, name="create"),
    path("patients/<int:pk>/", views.patient_chart, name="chart"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="edit"),
    path("patients/<int:pk>/history/new/", views.history_new, name="history_new"),
    path("patients/<int:pk>/history/<int:version>/", views.history_detail, name="history_detail"),
    path(
        "patients/<int:pk>/alerts/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"
    ),
    path(
        "patients/<int:pk>/consents/<int:template_pk>/sign/",
        views.consent_sign_desk,
        name="consent_sign",
    ),
    path("patients/<int:pk>/intake/invite/", views.intake_invite, name="intake_invite"),
    path("consents/<int:signature_pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path(
        "consents/<int:signature_pk>/signature.png",
        views.consent_signature_image,
        name="consent_signature_image",
    ),
    path("intake/<str:token>/", views.intake_accept, name="intake_accept"),
    path("portal/me/history/", views.portal_history, name="portal_history"),
    path("portal/me/consents/", views.portal_consents, name="portal_consents"),
    path(
        "portal/me/consents/<int:template_pk>/sign/",
        views.portal_consent_sign,
        name="portal_consent_sign",
    ),
    path(
        "portal/me/consents/<int:signature_pk>/withdraw/",
        views.portal_consent_withdraw,
        name="portal_consent_withdraw",
    ),
    path("portal/me/details/", views.portal_details, name="portal_details"),
]
