"""PDF of an invoice, credit note or receipt with ReportLab (pure Python: no system
libraries to install, unlike WeasyPrint). Same content as the HTML print view."""

import io
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils.formats import date_format
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .money import format_money

# A Unicode font when the machine has DejaVu (Debian's fonts-dejavu-core), so names such as
# "Łukasz" print; otherwise ReportLab's built-in Helvetica (Western European characters).
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FONT, BOLD = "Helvetica", "Helvetica-Bold"
try:
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(_DEJAVU / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(_DEJAVU / "DejaVuSans-Bold.ttf")))
    FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
except Exception:  # noqa: BLE001,S110 - the built-in font is the fallback
    pass

CLINIC_TEAL = colors.HexColor("#0f5c6e")


def _styles():
    base = getSampleStyleSheet()
    return {
        "body": ParagraphStyle(
            "body", parent=base["Normal"], fontName=FONT, fontSize=9.5, leading=12
        ),
        "small": ParagraphStyle(
            "small",
            parent=base["Normal"],
            fontName=FONT,
            fontSize=8,
            leading=10,
            textColor=colors.HexColor("#555555"),
        ),
        "title": ParagraphStyle(
            "title",
            parent=base["Title"],
            fontName=BOLD,
            fontSize=18,
            alignment=0,
            textColor=CLINIC_TEAL,
            spaceAfter=2,
        ),
        "right": ParagraphStyle(
            "right",
            parent=base["Normal"],
            fontName=FONT,
            fontSize=9.5,
            leading=12,
            alignment=TA_RIGHT,
        ),
        "bold": ParagraphStyle(
            "bold", parent=base["Normal"], fontName=BOLD, fontSize=9.5, leading=12
        ),
    }


def _p(text, style):
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _money(amount, currency):
    return format_money(amount, currency)


def render_pdf(doc):
    """``doc`` is a ``billing.documents.Document``; returns the PDF's bytes."""
    buffer = io.BytesIO()
    s = _styles()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{doc.title} {doc.number}",
        author=doc.clinic.name,
    )
    story = []
    clinic = doc.clinic
    clinic_lines = [
        clinic.name,
        clinic.address or (doc.location.address if doc.location else ""),
        clinic.phone,
        clinic.email,
    ]
    header = Table(
        [
            [
                [
                    _p(doc.title, s["title"]),
                    _p(doc.number or "—", s["bold"]),
                    _p(
                        date_format(doc.issued_on, "DATE_FORMAT") if doc.issued_on else "",
                        s["body"],
                    ),
                ],
                [_p(line, s["right"]) for line in clinic_lines if line],
            ]
        ],
        colWidths=[95 * mm, 79 * mm],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [header, Spacer(1, 6 * mm)]
    patient = doc.patient
    address = " ".join(
        filter(None, [patient.address_line, patient.postcode, patient.city, patient.country])
    )
    story += [_p("Billed to", s["small"]), _p(patient.full_name, s["bold"])]
    if address:
        story.append(_p(address, s["body"]))
    if doc.credited_invoice is not None:
        story.append(_p(f"Credits invoice {doc.credited_invoice.number}. {doc.reason}", s["body"]))
    story.append(Spacer(1, 5 * mm))
    if doc.kind == "receipt":
        story += _receipt_body(doc, s)
    else:
        story += _invoice_body(doc, s)
    if doc.notes:
        story += [Spacer(1, 4 * mm), _p(doc.notes, s["small"])]
    pdf.build(story)
    return buffer.getvalue()


def _table(rows, widths, *, header=True, total_rows=0):
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, CLINIC_TEAL),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("FONTNAME", (0, 0), (-1, 0), BOLD))
    if total_rows:
        style += [
            ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.6, colors.grey),
            ("FONTNAME", (0, -1), (-1, -1), BOLD),
        ]
    table.setStyle(TableStyle(style))
    return table


def _invoice_body(doc, s):
    currency = doc.currency
    rows = [["Description", "Qty", "Unit price", "Tax", "Amount"]]
    for line in doc.lines:
        rows.append(
            [
                _p(line.description, s["body"]),
                f"{line.quantity.normalize():f}",
                _money(line.unit_price, currency),
                f"{line.tax_rate.normalize():f} %",
                _money(line.total, currency),
            ]
        )
    story = [_table(rows, [82 * mm, 14 * mm, 28 * mm, 16 * mm, 34 * mm])]
    totals = [["Subtotal", _money(doc.subtotal, currency)]]
    for band in doc.tax_bands:
        if band.rate:
            totals.append(
                [
                    f"Tax {band.rate.normalize():f} % on {_money(band.net, currency)}",
                    _money(band.tax, currency),
                ]
            )
    totals.append(["Total", _money(doc.total, currency)])
    if doc.kind == "invoice" and not doc.draft:
        totals.append(["Paid", _money(doc.paid, currency)])
        totals.append(["Balance due", _money(doc.due, currency)])
    story += [Spacer(1, 3 * mm), _table(totals, [140 * mm, 34 * mm], header=False, total_rows=1)]
    if doc.payments:
        rows = [["Payments", "Method", "Reference", "Amount"]]
        for allocation in doc.payments:
            payment = allocation.payment
            rows.append(
                [
                    date_format(allocation.created_at, "SHORT_DATE_FORMAT"),
                    allocation.get_source_display()
                    if allocation.source in ("account_credit", "deposit", "release")
                    else payment.get_method_display(),
                    payment.reference if payment else "",
                    _money(allocation.amount, currency),
                ]
            )
        story += [Spacer(1, 5 * mm), _table(rows, [40 * mm, 50 * mm, 50 * mm, 34 * mm])]
    if doc.kind == "invoice" and not doc.draft and doc.due <= 0 and doc.total > 0:
        story += [Spacer(1, 4 * mm), _p("PAID IN FULL — thank you.", s["bold"])]
    return story


def _receipt_body(doc, s):
    payment = doc.receipt_payment
    currency = doc.currency
    rows = [
        ["Received", _money(payment.amount, currency)],
        ["Method", payment.get_method_display()],
        ["Reference", payment.reference or "—"],
        ["Taken by", str(payment.received_by)],
    ]
    story = [_table(rows, [60 * mm, 114 * mm], header=False)]
    if doc.applied:
        rows = [["Applied to", "Amount"]] + [
            [a.invoice.number, _money(a.amount, currency)] for a in doc.applied
        ]
        story += [Spacer(1, 4 * mm), _table(rows, [140 * mm, 34 * mm])]
    for refund in doc.refunds or []:
        story.append(
            _p(
                f"Refunded {_money(refund.amount, currency)} on "
                f"{date_format(refund.refunded_at, 'SHORT_DATE_FORMAT')}: {refund.reason}",
                s["small"],
            )
        )
    return story
