"""Routes of the billing pages, included at the site root by ``clinic.urls``."""

from django.urls import path

from . import account_views, portal_views, price_views, report_views, views

app_name = "billing"

urlpatterns = [
    path("billing/", views.invoice_list, name="invoices"),
    path("billing/invoices/<int:pk>/", views.invoice_detail, name="invoice"),
    path("billing/invoices/<int:pk>/lines/", views.line_add, name="line_add"),
    path("billing/invoices/<int:pk>/lines/<int:line_pk>/", views.line_update, name="line_update"),
    path(
        "billing/invoices/<int:pk>/lines/<int:line_pk>/remove/",
        views.line_remove,
        name="line_remove",
    ),
    path("billing/invoices/<int:pk>/notes/", views.invoice_notes, name="notes"),
    path("billing/invoices/<int:pk>/issue/", views.invoice_issue, name="issue"),
    path("billing/invoices/<int:pk>/void/", views.invoice_void, name="void"),
    path("billing/invoices/<int:pk>/pay/", views.invoice_pay, name="pay"),
    path("billing/invoices/<int:pk>/credit/", views.invoice_credit, name="credit"),
    path("billing/invoices/<int:pk>/print/", views.invoice_print, name="print"),
    path("billing/invoices/<int:pk>/pdf/", views.invoice_print, {"as_pdf": True}, name="pdf"),
    path("billing/invoices/<int:pk>/email/", views.invoice_email, name="email"),
    path("billing/payments/<int:pk>/receipt/", views.receipt_print, name="receipt"),
    path(
        "billing/payments/<int:pk>/receipt/pdf/",
        views.receipt_print,
        {"as_pdf": True},
        name="receipt_pdf",
    ),
    path("billing/payments/<int:pk>/refund/", views.payment_refund, name="refund"),
    path("billing/appointments/<int:pk>/", views.appointment_checkout, name="appointment_checkout"),
    path("billing/patients/<int:patient_id>/", account_views.account, name="account"),
    path("billing/patients/<int:patient_id>/deposit/", account_views.deposit, name="deposit"),
    path(
        "billing/patients/<int:patient_id>/invoices/new/",
        account_views.invoice_new,
        name="invoice_new",
    ),
    path(
        "billing/patients/<int:patient_id>/packages/new/",
        account_views.package_new,
        name="package_new",
    ),
    path("billing/packages/<int:pk>/cancel/", account_views.package_cancel, name="package_cancel"),
    path("billing/reports/", report_views.report_page, name="reports"),
    path("billing/prices/", price_views.price_list_index, name="prices"),
    path("billing/prices/new/", price_views.price_list_new, name="price_list_new"),
    path("billing/prices/<int:pk>/", price_views.price_list_edit, name="price_list_edit"),
    path("billing/prices/tax-rates/", price_views.tax_rate_add, name="tax_rate_add"),
    path("portal/billing/", portal_views.my_billing, name="my_billing"),
    path("portal/billing/invoices/<int:pk>/", portal_views.my_invoice, name="my_invoice"),
    path(
        "portal/billing/invoices/<int:pk>/pdf/",
        portal_views.my_invoice,
        {"as_pdf": True},
        name="my_invoice_pdf",
    ),
    path("portal/billing/payments/<int:pk>/", portal_views.my_receipt, name="my_receipt"),
    path(
        "portal/billing/payments/<int:pk>/pdf/",
        portal_views.my_receipt,
        {"as_pdf": True},
        name="my_receipt_pdf",
    ),
]
