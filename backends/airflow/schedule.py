"""A spec schedule as an Airflow 3 data-interval timetable, and the length of one interval."""

from __future__ import annotations

from dataclasses import dataclass

from streamc.ir import Schedule

WEEKDAYS = {"monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 0,
            "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}


@dataclass(frozen=True)
class Timetable:
    """`code` builds the timetable; `interval_seconds` is None when intervals vary (arbitrary cron)."""

    code: str
    imports: tuple[str, ...]
    summary: str
    cron: str | None
    interval_seconds: float | None


def _hm(time: str | None) -> tuple[int, int]:
    if not time:
        return 0, 0
    hour, _, minute = time.partition(":")
    return int(hour), int(minute or 0)


def timetable(schedule: Schedule) -> Timetable | None:
    """Data-interval timetables: each run covers [data_interval_start, data_interval_end), which the
    extract windows, partition overwrites and backfills are addressed by. (Airflow 3's default for a cron
    string is CronTriggerTimetable, whose runs have no interval, so the timetable is always explicit.)
    Returns None for `continuous` (streaming: nothing to schedule)."""
    tz = schedule.timezone or "UTC"
    if schedule.kind == "continuous":
        return None
    if schedule.kind == "every":
        assert schedule.every is not None
        seconds = int(schedule.every.seconds)
        cron = _every_as_cron(seconds)
        if cron is None:
            code = f"DeltaDataIntervalTimetable(timedelta(seconds={seconds}))"
            return Timetable(code, ("DeltaDataIntervalTimetable",), f"every {schedule.every.text}", None, seconds)
        return _cron(cron, tz, f"every {schedule.every.text}", seconds)
    if schedule.kind == "daily":
        hour, minute = _hm(schedule.time)
        return _cron(f"{minute} {hour} * * *", tz, f"daily at {hour:02d}:{minute:02d} {tz}", 86400)
    if schedule.kind == "hourly":
        _, minute = _hm(schedule.time)
        return _cron(f"{minute} * * * *", tz, "hourly", 3600)
    if schedule.kind == "weekly":
        hour, minute = _hm(schedule.time)
        day = WEEKDAYS.get((schedule.weekday or "monday").lower(), 1)
        return _cron(f"{minute} {hour} * * {day}", tz, f"weekly on {schedule.weekday or 'monday'}", 7 * 86400)
    assert schedule.cron is not None
    return _cron(schedule.cron, tz, f"cron {schedule.cron}", _fixed_cron_interval(schedule.cron))


def _cron(cron: str, tz: str, summary: str, seconds: float | None) -> Timetable:
    code = f"CronDataIntervalTimetable({cron!r}, timezone={tz!r})"
    return Timetable(code, ("CronDataIntervalTimetable",), summary, cron, seconds)


def _every_as_cron(seconds: int) -> str | None:
    """Wall-clock aligned cron for periods that divide an hour or a day evenly."""
    if seconds < 60 or seconds % 60:  # under a minute (or under a second) has no cron form
        return None
    minutes = seconds // 60
    if minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"
    if minutes % 60 == 0 and 24 % (minutes // 60) == 0:
        hours = minutes // 60
        return {1: "0 * * * *", 24: "0 0 * * *"}.get(hours, f"0 */{hours} * * *")
    return None


def _fixed_cron_interval(cron: str) -> float | None:
    fields = cron.split()
    if len(fields) != 5:
        return None
    minute, hour, dom, month, dow = fields
    if (dom, month, dow) != ("*", "*", "*"):
        return 7 * 86400 if (dom, month) == ("*", "*") and dow.isdigit() and minute.isdigit() else None
    if minute.isdigit() and hour.isdigit():
        return 86400
    if minute.isdigit() and hour == "*":
        return 3600
    if minute.startswith("*/") and hour == "*":
        return int(minute[2:]) * 60
    return None
