"""Money arithmetic, checked over many generated amounts with Hypothesis: line amounts,
tax, rounding to each currency's minor unit, fair shares and tax breakdowns."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import (
    LineAmounts,
    format_money,
    is_whole_amount,
    line_amounts,
    minor_units,
    next_share,
    quantum,
    round_money,
    tax_breakdown,
)

D = Decimal
CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KWD", "GBP", "CHF"])
PRICES = st.decimals(min_value=D("0"), max_value=D("100000"), places=3)
QUANTITIES = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
RATES = st.decimals(min_value=D("0"), max_value=D("30"), places=3)


def test_minor_units_of_common_currencies():
    assert (minor_units("JPY"), minor_units("USD"), minor_units("EUR"), minor_units("KWD")) == (
        0,
        2,
        2,
        3,
    )
    assert quantum("KWD") == D("0.001")
    with pytest.raises(ValueError):
        minor_units("XXX")


def test_rounding_is_half_up_at_the_minor_unit():
    assert round_money(D("2.345"), "USD") == D("2.35")
    assert round_money(D("2.344"), "USD") == D("2.34")
    assert round_money(D("-2.345"), "USD") == D("-2.35")
    assert round_money(D("1234.5"), "JPY") == D("1235")
    assert round_money(D("1.0005"), "KWD") == D("1.001")


def test_format_money_uses_the_currency_decimals():
    assert format_money(D("1234.5"), "USD") == "1,234.50 USD"
    assert format_money(D("1234.5"), "JPY") == "1,235 JPY"
    assert format_money(D("1.5"), "KWD") == "1.500 KWD"


def test_a_line_with_tax_on_top():
    amounts = line_amounts(quantity=D("3"), unit_price=D("19.99"), tax_rate=D("20"), currency="EUR")
    assert amounts == LineAmounts(net=D("59.97"), tax=D("11.99"), total=D("71.96"))


def test_a_line_with_tax_included():
    amounts = line_amounts(
        quantity=1, unit_price=D("120.00"), tax_rate=D("20"), tax_included=True, currency="EUR"
    )
    assert amounts == LineAmounts(net=D("100.00"), tax=D("20.00"), total=D("120.00"))


@settings(max_examples=400, deadline=None)
@given(
    quantity=QUANTITIES,
    unit_price=PRICES,
    rate=RATES,
    currency=CURRENCIES,
    included=st.booleans(),
    discount_share=st.decimals(min_value=D("0"), max_value=D("1"), places=2),
)
def test_line_amounts_add_up_and_are_whole_minor_units(
    quantity, unit_price, rate, currency, included, discount_share
):
    discount = round_money(quantity * unit_price * discount_share, currency)
    discount = min(discount, quantity * unit_price)
    amounts = line_amounts(
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        tax_rate=rate,
        tax_included=included,
        currency=currency,
    )
    assert amounts.net + amounts.tax == amounts.total
    for value in (amounts.net, amounts.tax, amounts.total):
        assert is_whole_amount(value, currency)
        assert value >= 0
    exact = quantity * unit_price - discount
    # Rounded once: the amount charged is within half a minor unit of the exact price.
    charged = amounts.total if included else amounts.net
    assert abs(charged - exact) <= quantum(currency) / 2
    # The tax is the rate applied to the net, within one minor unit.
    assert abs(amounts.tax - amounts.net * rate / 100) <= quantum(currency)


@settings(max_examples=300, deadline=None)
@given(
    price=st.decimals(min_value=D("1"), max_value=D("50000"), places=2),
    parts=st.integers(min_value=1, max_value=50),
    currency=CURRENCIES,
)
def test_shares_of_a_package_add_up_to_its_price(price, parts, currency):
    price = round_money(price, currency)
    shares, left = [], price
    for remaining in range(parts, 0, -1):
        share = next_share(remaining_value=left, remaining_parts=remaining, currency=currency)
        shares.append(share)
        left -= share
    assert sum(shares) == price
    assert left == 0
    fair = price / parts
    # Every share is within one minor unit of the fair share (the last one takes the rest).
    assert all(abs(share - fair) <= quantum(currency) * parts for share in shares)
    assert max(shares[:-1] or [shares[0]]) - min(shares[:-1] or [shares[0]]) <= quantum(currency)


class _Line:
    def __init__(self, rate, amounts):
        self.tax_rate, self.net, self.tax = rate, amounts.net, amounts.tax


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(QUANTITIES, PRICES, st.sampled_from([D("0"), D("5.5"), D("20")])),
        min_size=1,
        max_size=12,
    ),
    CURRENCIES,
)
def test_tax_breakdown_sums_to_the_lines(items, currency):
    lines = [
        _Line(rate, line_amounts(quantity=q, unit_price=p, tax_rate=rate, currency=currency))
        for q, p, rate in items
    ]
    bands = tax_breakdown(lines)
    assert sum(b.net for b in bands) == sum(line.net for line in lines)
    assert sum(b.tax for b in bands) == sum(line.tax for line in lines)
    assert len({b.rate for b in bands}) == len(bands)
