"""Routes of the consultations API, included under /api/v1/ by ``clinic.api_urls``."""

from django.urls import path

from . import photo_api

photo_list = photo_api.PhotoViewSet.as_view({"get": "list", "post": "create"})
photo_detail = photo_api.PhotoViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("photos/", photo_list, name="api-photo-list"),
    path("photos/<int:pk>/", photo_detail, name="api-photo-detail"),
    path("me/photos/", photo_api.MyPhotos.as_view(), name="api-my-photos"),
]
