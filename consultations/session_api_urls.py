"""Routes of the session-record, product, lot and recall API, included under /api/v1/."""

from django.urls import path

from . import session_api

urlpatterns = [
    path(
        "session-records/",
        session_api.SessionRecordListCreate.as_view(),
        name="api-session-record-list",
    ),
    path(
        "session-records/<int:pk>/",
        session_api.SessionRecordDetail.as_view(),
        name="api-session-record-detail",
    ),
    path(
        "session-records/<int:pk>/sign/",
        session_api.SessionRecordSign.as_view(),
        name="api-session-record-sign",
    ),
    path(
        "session-records/<int:pk>/addenda/",
        session_api.SessionRecordAddenda.as_view(),
        name="api-session-record-addenda",
    ),
    path("products/", session_api.ProductListCreate.as_view(), name="api-product-list"),
    path("products/<int:pk>/lots/", session_api.ProductLots.as_view(), name="api-product-lots"),
    path("lots/", session_api.LotList.as_view(), name="api-lot-list"),
    path("lots/recall/", session_api.LotRecall.as_view(), name="api-lot-recall"),
    path("lots/<int:pk>/", session_api.LotDetail.as_view(), name="api-lot-detail"),
]
