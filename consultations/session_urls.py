"""Routes of the treatment-session record pages (no namespace; names start with
``session_record_``)."""

urlpatterns = []
