#!/usr/bin/python3
"""Golden cron fire times for mayaflow, computed the way Airflow 2 computes them.

Airflow's CronDataIntervalTimetable (airflow/timetables/_cron.py, CronMixin) finds fire times with
croniter on naive wall-clock times and handles DST itself:

  * If croniter's expanded hour field is ['*'] (the cron "covers every hour"), the next fire time is
    current + (next naive match - naive wall-clock reading of current), measured in real time, so an
    hourly cron fires every real hour: twice in a repeated hour, never lost in a skipped one.
  * Otherwise the next naive match is made aware with airflow.utils.timezone.make_aware, which sets
    fold=1 and lets pendulum convert it: a wall time in a DST gap moves forward by the gap's length, an
    ambiguous wall time takes its second occurrence.

mayaflow adds one rule to Airflow's: a "next" fire time is never at or before the current time and a
"previous" one never at or after it; when Airflow's answer breaks that, the search goes on from that
naive match. (Airflow's _get_prev can return a time after `current` for an ambiguous or gap time.)

This script reimplements that logic on croniter (Debian's python3-croniter) and the standard zoneinfo
module, and writes engine/time/testdata/cron_golden.json: for each cron expression, zone and start
instant, the next NEXT_COUNT fire times and the previous PREV_COUNT, as ISO 8601 strings in the zone.
engine/time/cron_golden_test.cpp compares mayaflow's CronExpression against every row.

Run it with Debian's interpreter (the one that sees python3-croniter):

    /usr/bin/python3 tests/oracles/cron_oracle.py           # rewrite the golden file
    /usr/bin/python3 tests/oracles/cron_oracle.py --check   # recompute; exit 1 if the file differs

Expressions left out of the golden set, because croniter itself disagrees with Vixie cron semantics
(which mayaflow follows) or does not accept the syntax, are listed in EXCLUDED with the reason; the
unit tests in engine/time/cron_test.cpp cover them instead.
"""

import argparse
import datetime
import json
import pathlib
import sys
import zoneinfo

try:
    import croniter as croniter_module
    from croniter import croniter
except ImportError:  # pragma: no cover - environment problem, reported plainly
    sys.exit("cron_oracle.py needs croniter: apt-get install python3-croniter, and run /usr/bin/python3")

REPO = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = REPO / "engine" / "time" / "testdata" / "cron_golden.json"
UTC = datetime.timezone.utc

NEXT_COUNT = 12
PREV_COUNT = 3

# Expressions in mayaflow syntax. Each is checked in every zone.
EXPRESSIONS = [
    # The hour field allows every hour: Airflow's real-time stepping applies.
    "* * * * *",
    "*/5 * * * *",
    "0 * * * *",
    "30 * * * *",
    "15,45 * * * *",
    "5/20 * * * *",
    "0-10/5 * * * *",
    "30 */1 * * *",
    "0 0-23 * * *",
    "*/30 * * * 1-5",
    "45 * * * SAT,SUN",
    "0 * 1 * *",
    # Fixed hours: wall-clock times made instants (gap -> forward, ambiguous -> second occurrence).
    "0 */2 * * *",
    "0 */3 * * *",
    "0 1/4 * * *",
    "23 0-20/2 * * *",
    "0 0-22 * * *",
    "0 0 * * *",
    "30 1 * * *",
    "30 2 * * *",
    "0 2 * * *",
    "0 3 * * *",
    "15 2 * * *",
    "59 23 * * *",
    "45 1,2 * * *",
    "0 1-3 * * *",
    "*/10 1-3 * * *",
    "0-10 3 * * *",
    "* 2 * * *",
    # Weekdays, names, Sunday as 0 and 7.
    "0 0 * * 0",
    "0 0 * * 7",
    "5 4 * * sun",
    "0 9-17 * * MON-FRI",
    "*/15 9-17 * * 1-5",
    "0 22 * * 1-5",
    "0 9 * * 1,3,5",
    "0 5 * * SAT-SUN",
    # Days of the month, months, L.
    "0 0 1 * *",
    "0 0 1 */3 *",
    "0 0 1 1 *",
    "0 0 L * *",
    "0 12 15,L * *",
    "0 6 L 2 *",
    "0 0 29 2 *",
    "0 0 31 * *",
    "0 0 30 * *",
    "0 4 8-14 * *",
    "0 0 24-31 12 *",
    "1 2 3 4 *",
    "0 0 * JAN,JUL *",
    "0 0 1 jan-mar *",
    "0 0,12 1 */2 *",
    # Both day fields restricted: a day matches either (Vixie cron, and croniter).
    "0 0 13 * 5",
    "0 0 1,15 * 1",
    "0 0 1-7 * 1",
    "0 0 1 * MON-FRI",
    "0 0 29 2 1",
    # Last weekday of the month and the k-th weekday.
    "0 0 * * 5L",
    "0 3 * * SUNL",
    "0 0 * * FRI#2",
    "0 8 * * 1#1",
    "0 12 * * MON#5",
    "0 0 * * 1#1,3#3",
    # Aimed at the DST changes of the zones below.
    "0 2 * 3 0",
    "30 2 * 3,10,11 0",
    "0 1 * 11 SUN#1",
    "0 2 * 3 SUN#2",
    "30 2 * 4 0#1",
    "45 2 * 9 0L",
]

# Left out of the golden set, with the reason. mayaflow's behaviour for these is in cron_test.cpp.
EXCLUDED = {
    "0 0 */2 * 1": "croniter ORs the day fields because it sees day-of-month */2 as restricted; Vixie cron "
    "(and mayaflow) AND them because the field starts with *",
    "0 0 13 * */2": "same as above for a day-of-week starting with * while day-of-month is restricted",
    "0 0 1-31 * 1": "croniter turns a full range into * and ANDs the day fields; Vixie cron ORs them "
    "because the field does not start with *",
    "0 0 1 * 0-6": "same as above for day-of-week 0-6",
    "0 0 ? * MON": "croniter 1.3.5 does not accept ?",
    "0 0 L-2 * *": "croniter 1.3.5 does not accept L-n (it fails with an internal NameError)",
    "0 0 15 * FRI#2": "croniter applies # to both halves of the day-field OR and fails with 'failed to find "
    "next date'",
    "0 0 15 * 5L": "same as above for nL (L5 in croniter)",
    "0 0 * * 1,FRI#2": "croniter rejects plain weekdays mixed with #",
    "0 22-2 * * *": "mayaflow rejects ranges that wrap around (croniter too); write 22-23,0-2",
    "*/90 * * * *": "mayaflow rejects steps larger than the field's range",
}

ZONES_WITH_DST = [
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Pacific/Chatham",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "America/Santiago",
]
ZONES_WITHOUT_DST = ["UTC", "Asia/Kolkata", "Asia/Kathmandu"]

GENERIC_STARTS = [
    datetime.datetime(2024, 2, 28, 22, 17, 0, tzinfo=UTC),
    datetime.datetime(2025, 12, 31, 23, 59, 59, 250000, tzinfo=UTC),
]


def zone(name):
    return UTC if name == "UTC" else zoneinfo.ZoneInfo(name)


def to_croniter_syntax(expression):
    """mayaflow writes the last weekday n of a month as nL (5L, FRIL); croniter writes L5."""
    fields = expression.split()
    names = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
    items = []
    for item in fields[4].split(","):
        if len(item) > 1 and item.upper().endswith("L"):
            day = item[:-1].upper()
            item = "L%d" % (names[day] if day in names else int(day) % 7)
        items.append(item)
    fields[4] = ",".join(items)
    return " ".join(fields)


def covers_every_hour(cron):
    # airflow/timetables/_cron.py: _covers_every_hour
    return cron.expanded[1] == ["*"]


def make_aware(naive, tz):
    """airflow.utils.timezone.make_aware: fold=1, then pendulum's Timezone.convert."""
    if tz is UTC:
        return naive.replace(tzinfo=UTC)
    before = naive.replace(fold=0, tzinfo=tz).utcoffset()
    after = naive.replace(fold=1, tzinfo=tz).utcoffset()
    if after > before:  # a gap: pendulum moves the time forward by the gap's length
        naive = naive + (after - before)
    return naive.replace(fold=1, tzinfo=tz)


def make_naive(instant, tz):
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def next_after(expression, current, tz):
    naive = make_naive(current, tz)
    cron = croniter(to_croniter_syntax(expression), start_time=naive)
    while True:
        scheduled = cron.get_next(datetime.datetime)
        if covers_every_hour(cron):
            return current + (scheduled - naive)
        fire = make_aware(scheduled, tz).astimezone(UTC)
        if fire > current:
            return fire


def croniter_previous(expression, naive):
    """The last naive match strictly before `naive`.

    croniter 1.3.5's get_prev is wrong around leap days (it skips 2024-02-29 for "0 6 L 2 *" and fails
    on "0 0 29 2 *"), so the previous match is found with get_next from ever earlier starts.
    """
    for window in (datetime.timedelta(hours=2), datetime.timedelta(days=3), datetime.timedelta(days=70),
                   datetime.timedelta(days=366 * 5), datetime.timedelta(days=366 * 60)):
        cron = croniter(expression, start_time=naive - window)
        last = None
        while True:
            match = cron.get_next(datetime.datetime)
            if match >= naive:
                break
            last = match
        if last is not None:
            return last
    raise RuntimeError("no match in 60 years before %s for %s" % (naive, expression))


def previous_before(expression, current, tz):
    naive = make_naive(current, tz)
    syntax = to_croniter_syntax(expression)
    covers = covers_every_hour(croniter(syntax))
    scheduled = naive
    while True:
        scheduled = croniter_previous(syntax, scheduled)
        if covers:
            return current - (naive - scheduled)
        fire = make_aware(scheduled, tz).astimezone(UTC)
        if fire < current:
            return fire


def transitions(tz, year):
    """The instants in `year` at which the zone's UTC offset changes, to the second."""
    found = []
    t = datetime.datetime(year, 1, 1, tzinfo=UTC)
    end = datetime.datetime(year + 1, 1, 1, tzinfo=UTC)
    step = datetime.timedelta(hours=1)
    while t < end:
        if t.astimezone(tz).utcoffset() != (t + step).astimezone(tz).utcoffset():
            low, high = t, t + step
            while high - low > datetime.timedelta(seconds=1):
                mid = low + (high - low) / 2
                if mid.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = mid
                else:
                    high = mid
            found.append(high.replace(microsecond=0))
        t += step
    return found


def starts_for(zone_name):
    if zone_name in ZONES_WITHOUT_DST:
        return GENERIC_STARTS
    tz = zone(zone_name)
    # Ten minutes before a change, even "* * * * *" crosses it within its twelve fire times; from two
    # and a half hours before, the hourly ones do.
    first, second = transitions(tz, 2024)
    minutes = datetime.timedelta(minutes=1)
    return [first - 10 * minutes, second - 150 * minutes, second - 10 * minutes,
            transitions(tz, 2026)[0] - 150 * minutes]


def iso(instant, tz):
    return instant.astimezone(tz).isoformat()


def compute_rows():
    rows = []
    for zone_name in ZONES_WITH_DST + ZONES_WITHOUT_DST:
        tz = zone(zone_name)
        starts = starts_for(zone_name)
        for expression in EXPRESSIONS:
            for start in starts:
                nexts, t = [], start
                for _ in range(NEXT_COUNT):
                    t = next_after(expression, t, tz)
                    nexts.append(iso(t, tz))
                prevs, t = [], start
                for _ in range(PREV_COUNT):
                    t = previous_before(expression, t, tz)
                    prevs.append(iso(t, tz))
                rows.append({"cron": expression, "zone": zone_name, "start": iso(start, UTC), "next": nexts,
                             "previous": prevs})
    return rows


def tzdata_version():
    try:
        with open("/usr/share/zoneinfo/tzdata.zi") as f:
            return f.readline().replace("# version", "").strip()
    except OSError:
        return "unknown"


def croniter_version():
    try:
        import importlib.metadata
        return importlib.metadata.version("croniter")
    except Exception:  # an unusual install: the version only labels the file
        return getattr(croniter_module, "__version__", "unknown")


def render(rows):
    header = {
        "about": "Cron fire times as Airflow 2 computes them (croniter + its DST rules), with mayaflow's "
        "never-at-or-before/after rule. Written by tests/oracles/cron_oracle.py; do not edit by hand.",
        "croniter": croniter_version(),
        "tzdata": tzdata_version(),
        "next_count": NEXT_COUNT,
        "previous_count": PREV_COUNT,
        "excluded": EXCLUDED,
    }
    lines = ["{", '  "header": ' + json.dumps(header, sort_keys=True) + ",", '  "rows": [']
    lines += ["    " + json.dumps(row) + ("," if i + 1 < len(rows) else "") for i, row in enumerate(rows)]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="recompute and compare with the golden file")
    args = parser.parse_args()

    text = render(compute_rows())
    if not args.check:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
        print("wrote %s (%d rows)" % (GOLDEN.relative_to(REPO), text.count('"cron"')))
        return 0

    if not GOLDEN.exists():
        print("%s is missing: run this script without --check" % GOLDEN, file=sys.stderr)
        return 1
    committed_text = GOLDEN.read_text()
    if committed_text == text:
        print("%s matches the oracle (%d rows)" % (GOLDEN.relative_to(REPO), text.count('"cron"')))
        return 0
    report_differences(json.loads(committed_text), json.loads(text))
    return 1


def report_differences(committed, oracle):
    """Names each row and fire time where the committed file and the oracle part ways."""
    problems = []
    for name in sorted(set(committed["header"]) | set(oracle["header"])):
        a, b = committed["header"].get(name), oracle["header"].get(name)
        if a != b:
            problems.append("header %r: committed %s, oracle %s"
                            % (name, json.dumps(a)[:200], json.dumps(b)[:200]))

    def key(row):
        return (row["cron"], row["zone"], row["start"])

    committed_rows = {key(row): row for row in committed["rows"]}
    oracle_rows = {key(row): row for row in oracle["rows"]}
    for k in sorted(set(committed_rows) - set(oracle_rows)):
        problems.append("row only in the committed file: %s" % (k,))
    for k in sorted(set(oracle_rows) - set(committed_rows)):
        problems.append("row missing from the committed file: %s" % (k,))
    for k in sorted(set(committed_rows) & set(oracle_rows)):
        for field in ("next", "previous"):
            ours, theirs = committed_rows[k].get(field, []), oracle_rows[k].get(field, [])
            for i in range(max(len(ours), len(theirs))):
                a = ours[i] if i < len(ours) else None
                b = theirs[i] if i < len(theirs) else None
                if a != b:
                    problems.append("cron %r in %s from %s: %s[%d] committed %s, oracle %s"
                                    % (k + (field, i, a, b)))
                    break
    print("%s differs from the oracle (%d differences; regenerate with this script if the change is "
          "intended):" % (GOLDEN.relative_to(REPO), len(problems)), file=sys.stderr)
    for line in problems[:40]:
        print("  " + line, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
