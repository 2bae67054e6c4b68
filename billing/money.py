"""Money arithmetic, in one place: currencies and their minor units, rounding, line amounts,
tax breakdowns and fair splits. Plain functions over ``Decimal``; no models.

Rules:
- Amounts are ``Decimal``, never float.
- Each amount of a line (net, tax) is rounded once, to the currency's minor unit, half up.
  Document totals are sums of rounded line amounts, so they need no rounding of their own.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0")
HUNDRED = Decimal("100")

# ISO 4217 codes in use and their minor units (digits after the decimal point).
_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWL"
)
MINOR_UNITS = {
    **dict.fromkeys(_ZERO_DECIMALS.split(), 0),
    **dict.fromkeys(_TWO_DECIMALS.split(), 2),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}
CURRENCY_CHOICES = sorted((code, code) for code in MINOR_UNITS)


def validate_currency(code):
    if code not in MINOR_UNITS:
        raise ValidationError(
            _("%(code)s is not an ISO 4217 currency code (e.g. USD, EUR, JPY)."),
            params={"code": code},
            code="currency",
        )


def minor_units(currency):
    """Digits after the decimal point for ``currency``; unknown codes are refused."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"Unknown currency {currency!r}") from None


def quantum(currency):
    """The smallest amount of the currency: 1 for JPY, 0.01 for USD, 0.001 for KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount, currency):
    """``amount`` rounded half up to the currency's minor unit."""
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def is_whole_amount(amount, currency):
    """True when ``amount`` has no digits below the currency's minor unit (12.345 USD: no)."""
    try:
        return Decimal(amount) == round_money(amount, currency)
    except InvalidOperation:
        return False


def format_money(amount, currency):
    """'1,234.50 USD', with the currency's own number of decimals."""
    if amount is None:
        return ""
    value = round_money(amount, currency)
    return f"{value:,.{minor_units(currency)}f} {currency}"


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(
    *, quantity, unit_price, currency, discount=ZERO, tax_rate=ZERO, tax_included=False
):
    """Net, tax and total of one invoice line.

    ``tax_rate`` is a percentage (20 for 20 %). Without ``tax_included`` the price is net:
    net = round(quantity * unit price - discount), tax = round(net * rate / 100). With it the
    price already contains the tax: total = round(quantity * unit price - discount),
    tax = round(total * rate / (100 + rate)), net = total - tax. Either way each amount is
    rounded once and net + tax == total exactly.
    """
    quantity, unit_price = Decimal(quantity), Decimal(unit_price)
    discount, tax_rate = Decimal(discount or 0), Decimal(tax_rate or 0)
    exact = quantity * unit_price - discount
    if tax_included:
        total = round_money(exact, currency)
        tax = round_money(total * tax_rate / (HUNDRED + tax_rate), currency)
        return LineAmounts(net=total - tax, tax=tax, total=total)
    net = round_money(exact, currency)
    tax = round_money(net * tax_rate / HUNDRED, currency)
    return LineAmounts(net=net, tax=tax, total=net + tax)


@dataclass(frozen=True)
class TaxBand:
    rate: Decimal
    net: Decimal
    tax: Decimal

    @property
    def total(self):
        return self.net + self.tax


def tax_breakdown(lines):
    """Net and tax per rate over ``lines`` (objects with ``tax_rate``, ``net``, ``tax``),
    ordered by rate: what an invoice prints under its lines."""
    bands = {}
    for line in lines:
        rate = Decimal(line.tax_rate).normalize()
        net, tax = bands.get(rate, (ZERO, ZERO))
        bands[rate] = (net + line.net, tax + line.tax)
    return [TaxBand(rate=rate, net=net, tax=tax) for rate, (net, tax) in sorted(bands.items())]


def next_share(*, remaining_value, remaining_parts, currency):
    """The value of the next of ``remaining_parts`` equal parts of ``remaining_value``: the
    last part takes exactly what is left, so the parts always add up to the whole (a package
    of 10 sessions for 3,400.00 gives 340.00 each; 1,000.00 over 3 gives 333.33, 333.34,
    333.33)."""
    if remaining_parts < 1:
        raise ValueError("Nothing left to share")
    if remaining_parts == 1:
        return remaining_value
    return round_money(Decimal(remaining_value) / remaining_parts, currency)


def percent_of(amount, percent, currency):
    return round_money(Decimal(amount) * Decimal(percent) / HUNDRED, currency)
