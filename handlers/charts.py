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


def stats_chart(report: Report, labels: ChartLabels) -> bytes:
    """The chart of the report's days as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    days = [day for day, _figures in report.by_day]
    opened = [figures.opened for _day, figures in report.by_day]
    closed = [figures.closed for _day, figures in report.by_day]
    first = [figures.first_response_compliance for _day, figures in report.by_day]
    resolution = [figures.resolution_compliance for _day, figures in report.by_day]

    figure = Figure(figsize=(9, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    counts, shares = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    if len(days) > DENSE_DAYS:
        counts.plot(days, opened, label=labels.opened, color="#4C78A8")
        counts.plot(days, closed, label=labels.closed, color="#59A14F")
    else:
        offset = 0.2
        counts.bar([_shift(day, -offset) for day in days], opened, width=0.4,
                   label=labels.opened, color="#4C78A8")
        counts.bar([_shift(day, offset) for day in days], closed, width=0.4,
                   label=labels.closed, color="#59A14F")
    counts.set_ylabel(labels.tickets)
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    counts.legend(loc="upper left")
    counts.set_title(labels.title)
    counts.grid(axis="y", alpha=0.3)
    shares.plot(days, [_gap(value) for value in first], marker=".", label=labels.first_response,
                color="#F28E2B")
    shares.plot(days, [_gap(value) for value in resolution], marker=".",
                label=labels.resolution, color="#E15759")
    shares.set_ylim(0, 105)
    shares.yaxis.set_major_formatter(PercentFormatter())
    shares.set_ylabel(labels.compliance)
    shares.legend(loc="lower left")
    shares.grid(alpha=0.3)
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _shift(day: object, by: float) -> object:
    """A day moved by part of a day (bars side by side)."""
    from matplotlib.dates import date2num

    return date2num(day) + by


def _gap(value: float | None) -> float:
    """A share, or NaN where nothing was due (a gap in the line, not a zero)."""
    return float("nan") if value is None else value
