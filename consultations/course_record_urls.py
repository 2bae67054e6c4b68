"""Routes of the clinical course view, product lots and the lot recall (no namespace)."""

urlpatterns = []
