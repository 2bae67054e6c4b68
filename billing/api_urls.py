"""Routes of the billing API, included under /api/v1/ by ``clinic.api_urls``."""

from django.urls import path

from . import api

urlpatterns = [
    path("invoices/", api.InvoiceList.as_view(), name="api-invoice-list"),
    path("invoices/<int:pk>/", api.InvoiceDetail.as_view(), name="api-invoice-detail"),
    path("invoices/<int:pk>/issue/", api.InvoiceIssue.as_view(), name="api-invoice-issue"),
    path("invoices/<int:pk>/credit/", api.InvoiceCredit.as_view(), name="api-invoice-credit"),
    path("payments/", api.PaymentListCreate.as_view(), name="api-payment-list"),
    path("payments/<int:pk>/refund/", api.PaymentRefund.as_view(), name="api-payment-refund"),
    path("packages/", api.PackageListCreate.as_view(), name="api-package-list"),
    path("packages/<int:pk>/", api.PackageDetail.as_view(), name="api-package-detail"),
    path("price-list/", api.PriceListView.as_view(), name="api-price-list"),
    path(
        "patients/<int:patient_id>/ledger/", api.PatientLedger.as_view(), name="api-patient-ledger"
    ),
    path("me/invoices/", api.MyInvoiceList.as_view(), name="api-my-invoices"),
    path("me/invoices/<int:pk>/", api.MyInvoiceDetail.as_view(), name="api-my-invoice"),
    path("me/ledger/", api.MyLedger.as_view(), name="api-my-ledger"),
    path("me/packages/", api.MyPackages.as_view(), name="api-my-packages"),
]
