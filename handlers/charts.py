"""The `/stats` chart: tickets opened and closed per day, and the SLA compliance, as a PNG.

Only matplotlib's object-oriented API with the Agg canvas is used (no pyplot state), so a chart
can be drawn in a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from domain.reports import Report

DENSE_DAYS = 45  # beyond this many days, bars become lines


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, already translated."""

    title: str
    opened: str
    closed: str
    tickets: str
    first_response: str
    resolution: str
    compliance: str


WIDTH, HEIGHT, DPI = 7.2, 8.0, 150  # 1080 × 1200 px: a phone shows it across its width
FONT = 15  # points: at a phone's width, about the size of the chat's own text


def stats_chart(report: Report, labels: ChartLabels) -> bytes:
    """The chart of the report's days as PNG bytes: made to be read on a phone (tall, large
    type, the legends above the plots, never over the data, the axis spanning the period)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    days = [day for day, _figures in report.by_day]
    opened = [figures.opened for _day, figures in report.by_day]
    closed = [figures.closed for _day, figures in report.by_day]
    first = [figures.first_response_compliance for _day, figures in report.by_day]
    resolution = [figures.resolution_compliance for _day, figures in report.by_day]

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    counts, shares = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    if len(days) > DENSE_DAYS:
        counts.plot(days, opened, label=labels.opened, color="#4C78A8", linewidth=2.5)
        counts.plot(days, closed, label=labels.closed, color="#59A14F", linewidth=2.5)
    else:
        offset = 0.2
        counts.bar([date2num(day) - offset for day in days], opened, width=0.4,
                   label=labels.opened, color="#4C78A8")
        counts.bar([date2num(day) + offset for day in days], closed, width=0.4,
                   label=labels.closed, color="#59A14F")
    counts.set_ylabel(labels.tickets, fontsize=FONT)
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    counts.set_ylim(bottom=0)
    counts.set_title(labels.title, fontsize=FONT + 3, loc="left", pad=40)
    counts.grid(axis="y", alpha=0.3)
    shares.plot(days, [_gap(value) for value in first], marker="o", markersize=5,
                linewidth=2.5, label=labels.first_response, color="#F28E2B")
    shares.plot(days, [_gap(value) for value in resolution], marker="o", markersize=5,
                linewidth=2.5, label=labels.resolution, color="#E15759")
    shares.set_ylim(0, 105)
    shares.yaxis.set_major_formatter(PercentFormatter())
    shares.set_ylabel(labels.compliance, fontsize=FONT)
    shares.grid(alpha=0.3)
    for axes in (counts, shares):  # the legend above its plot, out of the data's way
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False,
                    fontsize=FONT, handlelength=1.2, borderaxespad=0.2)
        axes.tick_params(labelsize=FONT - 2)
        axes.spines[["top", "right"]].set_visible(False)
    if days:  # the axis spans the period's days, no more
        shares.set_xlim(date2num(days[0]) - 0.5, date2num(days[-1]) + 0.5)
    locator = AutoDateLocator(minticks=3, maxticks=7)
    shares.xaxis.set_major_locator(locator)
    shares.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _gap(value: float | None) -> float:
    """A share, or NaN where nothing was due (a gap in the line, not a zero)."""
    return float("nan") if value is None else value
