"""Billing's permissions for the roles (applied by ``sync_role_permissions``)."""

from clinic.roles import Role, extend_role_permissions

BILL = ["billing.bill_patients", "billing.view_invoice"]

extend_role_permissions(Role.MANAGER, [*BILL, "billing.manage_prices"])
extend_role_permissions(Role.FRONT_DESK, BILL)
