"""Routes of the consultation record API, included under /api/v1/ by ``clinic.api_urls``."""

from django.urls import path

from . import record_api

urlpatterns = [
    path(
        "consultations/",
        record_api.ConsultationListCreate.as_view(),
        name="api-consultation-list",
    ),
    path(
        "consultations/<int:pk>/",
        record_api.ConsultationDetail.as_view(),
        name="api-consultation-detail",
    ),
    path(
        "consultations/<int:pk>/review-history/",
        record_api.ConsultationReviewHistory.as_view(),
        name="api-consultation-review-history",
    ),
    path(
        "consultations/<int:pk>/sign/",
        record_api.ConsultationSign.as_view(),
        name="api-consultation-sign",
    ),
    path(
        "consultations/<int:pk>/addenda/",
        record_api.ConsultationAddenda.as_view(),
        name="api-consultation-addenda",
    ),
    path(
        "consultations/<int:pk>/plan/",
        record_api.ConsultationPlan.as_view(),
        name="api-consultation-plan",
    ),
]
