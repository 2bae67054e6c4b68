"""The consultations app's API routes, included under /api/v1/ by ``clinic.api_urls``."""

from django.urls import path

from consultations.api import consultations, lots, photos, session_records

photo_list = photos.PhotoViewSet.as_view({"get": "list", "post": "create"})
photo_detail = photos.PhotoViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("photos/", photo_list, name="api-photo-list"),
    path("photos/<int:pk>/", photo_detail, name="api-photo-detail"),
    path("me/photos/", photos.MyPhotos.as_view(), name="api-my-photos"),
    path(
        "consultations/",
        consultations.ConsultationListCreate.as_view(),
        name="api-consultation-list",
    ),
    path(
        "consultations/<int:pk>/",
        consultations.ConsultationDetail.as_view(),
        name="api-consultation-detail",
    ),
    path(
        "consultations/<int:pk>/review-history/",
        consultations.ConsultationReviewHistory.as_view(),
        name="api-consultation-review-history",
    ),
    path(
        "consultations/<int:pk>/sign/",
        consultations.ConsultationSign.as_view(),
        name="api-consultation-sign",
    ),
    path(
        "consultations/<int:pk>/addenda/",
        consultations.ConsultationAddenda.as_view(),
        name="api-consultation-addenda",
    ),
    path(
        "consultations/<int:pk>/plan/",
        consultations.ConsultationPlan.as_view(),
        name="api-consultation-plan",
    ),
    path(
        "session-records/",
        session_records.SessionRecordListCreate.as_view(),
        name="api-session-record-list",
    ),
    path(
        "session-records/<int:pk>/",
        session_records.SessionRecordDetail.as_view(),
        name="api-session-record-detail",
    ),
    path(
        "session-records/<int:pk>/sign/",
        session_records.SessionRecordSign.as_view(),
        name="api-session-record-sign",
    ),
    path(
        "session-records/<int:pk>/addenda/",
        session_records.SessionRecordAddenda.as_view(),
        name="api-session-record-addenda",
    ),
    path("products/", lots.ProductListCreate.as_view(), name="api-product-list"),
    path("products/<int:pk>/lots/", lots.ProductLots.as_view(), name="api-product-lots"),
    path("lots/", lots.LotList.as_view(), name="api-lot-list"),
    path("lots/recall/", lots.LotRecall.as_view(), name="api-lot-recall"),
    path("lots/<int:pk>/", lots.LotDetail.as_view(), name="api-lot-detail"),
]
