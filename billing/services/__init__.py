"""Every write to billing, split by topic; import from here."""

from .documents import invoice_email_send
from .drafting import (
    fee_invoice_draft,
    fee_invoice_on_status_change,
    invoice_draft_blank,
    invoice_draft_for_appointment,
    invoice_draft_on_completion,
    package_draw,
    package_draw_reverse,
)
from .invoices import (
    credit_note_issue,
    invoice_issue,
    invoice_line_add,
    invoice_line_remove,
    invoice_line_update,
    invoice_update_notes,
    invoice_void,
)
from .packages import package_cancel, package_link_course, package_sell
from .payments import account_credit_apply, deposit_take, payment_take, refund_issue
from .prices import price_list_create, price_list_update, tax_rate_save

__all__ = [
    "account_credit_apply",
    "credit_note_issue",
    "deposit_take",
    "fee_invoice_draft",
    "fee_invoice_on_status_change",
    "invoice_draft_blank",
    "invoice_draft_for_appointment",
    "invoice_draft_on_completion",
    "invoice_email_send",
    "invoice_issue",
    "invoice_line_add",
    "invoice_line_remove",
    "invoice_line_update",
    "invoice_update_notes",
    "invoice_void",
    "package_cancel",
    "package_draw",
    "package_draw_reverse",
    "package_link_course",
    "package_sell",
    "payment_take",
    "price_list_create",
    "price_list_update",
    "refund_issue",
    "tax_rate_save",
]
