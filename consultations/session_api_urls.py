"""Routes of the session-record, product, lot and recall API, included under /api/v1/."""

urlpatterns = []
