"""Routes of the patient API, included under /api/v1/ by ``clinic.api_urls``."""

from django.urls import path

from . import api

patient_list = api.PatientViewSet.as_view({"get": "list", "post": "create"})
patient_detail = api.PatientViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update"}
)

# Plain paths rather than a router: ``<int:...>`` everywhere, and no regex routes.
urlpatterns = [
    path("patients/", patient_list, name="api-patient-list"),
    path("patients/<int:pk>/", patient_detail, name="api-patient-detail"),
    path(
        "patients/<int:patient_id>/medical-history/",
        api.PatientMedicalHistoryView.as_view(),
        name="api-patient-medical-history",
    ),
    path(
        "patients/<int:patient_id>/alerts/",
        api.PatientAlertsView.as_view(),
        name="api-patient-alerts",
    ),
    path(
        "patients/<int:patient_id>/alerts/acknowledge/",
        api.PatientAlertAcknowledgeView.as_view(),
        name="api-patient-alert-acknowledge",
    ),
    path(
        "patients/<int:patient_id>/consents/",
        api.PatientConsentsView.as_view(),
        name="api-patient-consents",
    ),
    path(
        "consents/<int:signature_id>/withdraw/",
        api.ConsentWithdrawView.as_view(),
        name="api-consent-withdraw",
    ),
    path("me/patient/", api.MyPatientView.as_view(), name="api-my-patient"),
    path("me/medical-history/", api.MyMedicalHistoryView.as_view(), name="api-my-medical-history"),
    path("me/consents/", api.MyConsentsView.as_view(), name="api-my-consents"),
    path(
        "me/consents/<int:signature_id>/withdraw/",
        api.MyConsentWithdrawView.as_view(),
        name="api-my-consent-withdraw",
    ),
]
