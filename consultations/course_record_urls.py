"""Routes of the clinical course view, product lots and the lot recall (no namespace)."""

from django.urls import path

from . import course_record_views as views

urlpatterns = [
    path("courses/<int:pk>/record/", views.course_clinical, name="course_clinical"),
    path(
        "courses/<int:pk>/review/clear/",
        views.course_review_clear,
        name="course_review_clear",
    ),
    path("lots/", views.lot_list, name="lot_list"),
    path("lots/<int:pk>/stock/", views.lot_stock, name="lot_stock"),
    path("lots/recall/", views.lot_recall_page, name="lot_recall"),
    path("lots/recall/export.csv", views.lot_recall_csv, name="lot_recall_csv"),
]
