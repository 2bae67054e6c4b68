"""The database itself refuses to change an issued invoice or credit note (its amounts,
number, patient or lines) and to update or delete ledger entries, payments, refunds and
allocations: money history is only ever added to."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN
      RAISE EXCEPTION 'billing: invoice % is % and cannot be deleted', OLD.id, OLD.status
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status = 'issued' AND (
       NEW.status IS DISTINCT FROM OLD.status
    OR NEW.number IS DISTINCT FROM OLD.number
    OR NEW.kind IS DISTINCT FROM OLD.kind
    OR NEW.purpose IS DISTINCT FROM OLD.purpose
    OR NEW.patient_id IS DISTINCT FROM OLD.patient_id
    OR NEW.location_id IS DISTINCT FROM OLD.location_id
    OR NEW.appointment_id IS DISTINCT FROM OLD.appointment_id
    OR NEW.credited_invoice_id IS DISTINCT FROM OLD.credited_invoice_id
    OR NEW.currency IS DISTINCT FROM OLD.currency
    OR NEW.subtotal IS DISTINCT FROM OLD.subtotal
    OR NEW.tax_total IS DISTINCT FROM OLD.tax_total
    OR NEW.total IS DISTINCT FROM OLD.total
    OR NEW.issued_at IS DISTINCT FROM OLD.issued_at
    OR NEW.sequence IS DISTINCT FROM OLD.sequence
    OR NEW.year IS DISTINCT FROM OLD.year
    OR NEW.notes IS DISTINCT FROM OLD.notes
  ) THEN
    RAISE EXCEPTION 'billing: invoice % is issued and cannot be changed; issue a credit note', OLD.number
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.status = 'void' AND NEW.status IS DISTINCT FROM OLD.status THEN
    RAISE EXCEPTION 'billing: invoice % is void', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_guard
BEFORE UPDATE OR DELETE ON billing_invoice
FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();

CREATE OR REPLACE FUNCTION billing_invoice_line_guard() RETURNS trigger AS $$
DECLARE
  invoice_status text;
BEGIN
  SELECT status INTO invoice_status FROM billing_invoice
   WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
  IF invoice_status IS NOT NULL AND invoice_status <> 'draft' THEN
    RAISE EXCEPTION 'billing: the lines of a % invoice cannot be changed', invoice_status
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_line_guard
BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_guard();

CREATE OR REPLACE FUNCTION billing_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'billing: % rows are append-only', TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_ledger_append_only BEFORE UPDATE OR DELETE ON billing_ledgerentry
FOR EACH ROW EXECUTE FUNCTION billing_append_only();
CREATE TRIGGER billing_payment_append_only BEFORE UPDATE OR DELETE ON billing_payment
FOR EACH ROW EXECUTE FUNCTION billing_append_only();
CREATE TRIGGER billing_refund_append_only BEFORE UPDATE OR DELETE ON billing_refund
FOR EACH ROW EXECUTE FUNCTION billing_append_only();
CREATE TRIGGER billing_allocation_append_only BEFORE UPDATE OR DELETE ON billing_allocation
FOR EACH ROW EXECUTE FUNCTION billing_append_only();
"""

REVERSE_SQL = r"""
DROP TRIGGER IF EXISTS billing_allocation_append_only ON billing_allocation;
DROP TRIGGER IF EXISTS billing_refund_append_only ON billing_refund;
DROP TRIGGER IF EXISTS billing_payment_append_only ON billing_payment;
DROP TRIGGER IF EXISTS billing_ledger_append_only ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_append_only();
DROP TRIGGER IF EXISTS billing_invoice_line_guard ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoice_line_guard();
DROP TRIGGER IF EXISTS billing_invoice_guard ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_prices_invoices_payments_packages")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
