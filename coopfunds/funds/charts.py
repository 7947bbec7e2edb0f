"""A bar chart of remaining co-op against expiry dates, as plain geometry for an inline SVG template.
No JavaScript and no chart library: the template draws rectangles and text at these coordinates."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext

from coopfunds.core.i18n import day_lazy
from coopfunds.core.money import money as with_currency
from coopfunds.funds.selectors import ExpiryTotal

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 24, 40  # margins around the plot area
MAX_BARS = 12


def figures(amount: Decimal, places: int = 2) -> str:
    """An amount without its currency, grouped, in the active language: "18,750.00" in English, "18 750,00" in
    Swedish. Rounded as Python's own format rounds (half to even), which `number_format` alone would not do."""
    return number_format(amount.quantize(Decimal(1).scaleb(-places)), places, force_grouping=True)


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str  # the expiry date
    value: str  # the amount, formatted
    label_x: int


@dataclass(frozen=True)
class Tick:
    y: int
    text: str


@dataclass(frozen=True)
class BarChart:
    currency: str
    title: str
    description: str
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value` (an axis maximum)."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover (10 × power always suffices)


def expiry_chart(totals: list[ExpiryTotal], currency: str) -> BarChart | None:
    """The chart of one currency's remaining money per expiry date (at most MAX_BARS, soonest first)."""
    points = [t for t in totals if t.currency == currency][:MAX_BARS]
    if not points:
        return None
    top = nice_ceiling(max(t.amount for t in points))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) // len(points)
    bar_width = max(8, min(64, slot * 3 // 5))
    bars = []
    for i, t in enumerate(points):
        height = max(1, int((t.amount / top * plot_height).to_integral_value()))
        x = LEFT + i * slot + (slot - bar_width) // 2
        bars.append(
            Bar(
                x=x,
                y=TOP + plot_height - height,
                width=bar_width,
                height=height,
                label=str(day_lazy(t.expires_on)),
                value=figures(t.amount),
                label_x=x + bar_width // 2,
            )
        )
    places = 0 if top >= 10 else 2
    ticks = [Tick(y=TOP + plot_height - plot_height * i // 4, text=figures(top * i / 4, places)) for i in range(5)]
    description = (
        "; ".join(
            gettext("%(amount)s expires on %(day)s")
            % {"amount": with_currency(t.amount, currency), "day": day_lazy(t.expires_on)}
            for t in points
        )
        + "."
    )
    return BarChart(
        currency=currency,
        title=gettext("Remaining co-op (%(currency)s) by expiry date") % {"currency": currency},
        description=description,
        bars=bars,
        ticks=ticks,
    )


def expiry_charts(totals: list[ExpiryTotal]) -> list[BarChart]:
    """One chart per currency (amounts in different currencies never share an axis)."""
    currencies = sorted({t.currency for t in totals})
    return [c for c in (expiry_chart(totals, cur) for cur in currencies) if c is not None]
