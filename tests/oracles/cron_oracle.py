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
module, and writes engine/time/testdata/cron_golden.json: for each cron expression in EXPRESSIONS, zone
and start instant, the next NEXT_COUNT fire times and the previous PREV_COUNT; then, for RANDOM_EXPRESSIONS
expressions drawn by tests/oracles/cron_random_expressions.py with RANDOM_SEED, each in two random zones
from a random start, RANDOM_NEXT_COUNT and RANDOM_PREVIOUS_COUNT; all as ISO 8601 strings in the zone.
engine/time/cron_golden_test.cpp compares mayaflow's CronExpression against every row.

Where croniter 1.3.5 is plainly wrong the oracle does not copy it: croniter_next takes the days its
get_next skips, and croniter_previous checks get_prev (wrong around February 29) with croniter_next.
Drawn expressions croniter fails on are counted in the header and left out.

Run it with Debian's interpreter (the one that sees python3-croniter):

    /usr/bin/python3 tests/oracles/cron_oracle.py           # rewrite the golden file
    /usr/bin/python3 tests/oracles/cron_oracle.py --check   # recompute; exit 1 if the file differs

Chosen expressions left out of the golden set, because croniter fails on them or does not accept the
syntax, or mayaflow rejects them on purpose, are listed in EXCLUDED with the reason; the unit tests in
engine/time/cron_test.cpp cover them instead, and docs/time.md lists every difference.
"""

import argparse
import calendar
import datetime
import json
import pathlib
import random
import sys
import zoneinfo

import cron_random_expressions

try:
    import croniter as croniter_module
    from croniter import croniter
    from croniter.croniter import CroniterBadDateError, CroniterError
except ImportError:  # pragma: no cover - environment problem, reported plainly
    sys.exit("cron_oracle.py needs croniter: apt-get install python3-croniter, and run /usr/bin/python3")

REPO = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = REPO / "engine" / "time" / "testdata" / "cron_golden.json"
UTC = datetime.timezone.utc

NEXT_COUNT = 12
PREV_COUNT = 3

# Expressions in mayaflow syntax. Each is checked in every zone.
EXPRESSIONS = [
    # Steps beyond their field's range: croniter keeps the field's first value (or the start value).
    "*/90 * * * *",
    "*/60 * * * *",
    "5/70 * * * *",
    "0 */30 * * *",
    "0 0 */31 * *",
    "0 0 */40 * 1",
    "0 0 1 */13 *",
    "0 0 * * */7",
    "0 9 * * 1/9",
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
    # Both day fields restricted: a day matches either. croniter calls a field restricted when it does
    # not cover its whole range, however it is written: */2 restricts, 1-31 and 0-6 do not.
    "0 0 13 * 5",
    "0 0 1,15 * 1",
    "0 0 1-7 * 1",
    "0 0 1 * MON-FRI",
    "0 0 29 2 1",
    "0 0 */2 * 1",
    "0 0 13 * */2",
    "0 0 */2 * */3",
    "0 0 1-31 * 1",
    "0 0 */1 * 1",
    "0 0 1 * 0-6",
    "0 0 1 * 1-7",
    "0 0 L * 1",
    "0 0 10-L * 1",
    # croniter's get_next skips the first days of a month after a listed day its previous month lacks.
    "0 0 1,31 * *",
    "0 0 */5 * *",
    "0 0 30,L * *",
    # Last weekday of the month and the k-th weekday.
    "0 0 * * 5L",
    "0 3 * * SUNL",
    "0 0 * * FRI#2",
    "0 8 * * 1#1",
    "0 12 * * MON#5",
    "0 0 * * 1#1,3#3",
    "0 0 * * L5",
    "0 0 * * l0,MON#1",
    # croniter ignores plain weekdays beside # or L of the same weekday, and a restricted day of month.
    "0 0 * * 5,FRI#2",
    "0 0 * * *,FRI#2",
    "0 0 8 * FRI#2",
    "0 0 13 * *,FRI#2",
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
    "0 0 ? * MON": "croniter 1.3.5 does not accept ?",
    "0 0 L-2 * *": "croniter 1.3.5 does not accept L-n (it fails with an internal NameError)",
    "0 0 15 * FRI#2": "croniter looks for a 15th that is a second Friday, finds none and fails with "
    "'failed to find next date'",
    "0 0 15 * 5L": "same as above for nL (L5 in croniter)",
    "0 0 30 2 MON": "croniter looks for a February 30th before it ORs the day fields, and fails",
    "0 0 * * 1,FRI#2": "croniter rejects plain weekdays mixed with # of other weekdays",
    "0 22-2 * * *": "mayaflow rejects ranges that wrap around (croniter too); write 22-23,0-2",
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

# Random expressions (tests/oracles/cron_random_expressions.py), each in two zones drawn from these, from
# starts near DST changes and far from them.
RANDOM_SEED = 7
RANDOM_EXPRESSIONS = 3000
RANDOM_ROWS_PER_EXPRESSION = 2
RANDOM_NEXT_COUNT = 6
RANDOM_PREVIOUS_COUNT = 2
RANDOM_ZONES = ZONES_WITH_DST + ZONES_WITHOUT_DST + [
    "America/Los_Angeles",
    "America/Havana",
    "America/Sao_Paulo",
    "America/Nuuk",
    "Europe/Dublin",
    "Europe/Moscow",
    "Africa/Casablanca",
    "Asia/Tehran",
    "Asia/Jerusalem",
    "Asia/Beirut",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
]

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


MINUTE = datetime.timedelta(minutes=1)


def month_edges(earlier, later):
    """Midnight of the first and of the last day of each month from `earlier` on, in order, until `later`."""
    year, month = earlier.year, earlier.month
    while True:
        last_day = calendar.monthrange(year, month)[1]
        for day in (1, last_day):
            edge = datetime.datetime(year, month, day)
            if edge >= later:
                return
            yield edge
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def croniter_next(syntax, naive):
    """croniter's next naive match after `naive`, without the days its get_next skips.

    croniter 1.3.5 moves from day d to the next listed day-of-month n by adding n - d days even when the
    month is shorter than n: it then lands inside the next month, past its first days, and passes over
    the month's last day (`L`), which it lists after the numbers. "0 0 1,31 * *" from 2025-02-15 gives
    2025-03-31, not 2025-03-01, and "0 0 30,L * *" from 2025-02-10 gives 2025-03-30, not 2025-02-28:
    Airflow's scheduler skips those runs. Started a minute before the first or the last day of a month
    croniter finds that day, so the earliest of its answers from `naive` and from those edges in between
    is the first time croniter itself takes for a match. mayaflow returns that time; docs/time.md lists
    the difference.
    """
    cron = parsed(syntax)
    answer = cron.get_next(datetime.datetime, start_time=naive)
    for edge in month_edges(naive, answer):
        if edge >= answer:
            break
        if edge - MINUTE <= naive:
            continue
        candidate = cron.get_next(datetime.datetime, start_time=edge - MINUTE)
        if candidate < answer:
            croniter_skips.add(syntax)
            answer = candidate
    return answer


_parsed = {}


def parsed(syntax):
    """One croniter per expression, restarted for each search (parsing is most of croniter's time)."""
    if syntax not in _parsed:
        _parsed[syntax] = croniter(syntax)
    return _parsed[syntax]


# The expressions whose answers croniter_next had to correct, for the golden file's header.
croniter_skips = set()


def next_after(syntax, current, tz, covers):
    naive = make_naive(current, tz)
    scheduled = naive
    while True:
        scheduled = croniter_next(syntax, scheduled)
        if covers:
            return current + (scheduled - naive)
        fire = make_aware(scheduled, tz).astimezone(UTC)
        if fire > current:
            return fire


def is_previous_match(syntax, candidate, naive):
    """Whether `candidate` is a match before `naive` with no match between them."""
    return (candidate < naive and croniter_next(syntax, candidate - MINUTE) == candidate
            and croniter_next(syntax, candidate) >= naive)


def croniter_previous(syntax, naive):
    """The last naive match strictly before `naive`.

    croniter 1.3.5's get_prev is wrong around leap days (it skips 2024-02-29 for "0 6 L 2 *" and fails
    on "0 0 29 2 *"), so its answer is kept only when croniter_next confirms it; otherwise the previous
    match is found with croniter_next from ever earlier starts.
    """
    try:
        cron = parsed(syntax)
        cron.set_current(naive)
        guess = cron.get_prev(datetime.datetime)
        if is_previous_match(syntax, guess, naive):
            return guess
    except CroniterBadDateError:
        pass
    for window in (datetime.timedelta(hours=2), datetime.timedelta(days=3), datetime.timedelta(days=70),
                   datetime.timedelta(days=366 * 5), datetime.timedelta(days=366 * 60)):
        match, last = naive - window, None
        while True:
            match = croniter_next(syntax, match)
            if match >= naive:
                break
            last = match
        if last is not None:
            return last
    raise RuntimeError("no match in 60 years before %s for %s" % (naive, syntax))


def previous_before(syntax, current, tz, covers):
    naive = make_naive(current, tz)
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
    step = datetime.timedelta(days=1)  # no zone changes its offset twice within a day
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


def random_start(rng, zone_name):
    """Half the time shortly before one of the zone's DST changes, otherwise any time in 2019-2040."""
    year = rng.randint(2019, 2040)
    changes = transitions_cached(zone_name, year)
    if changes and rng.random() < 0.5:
        before = rng.choice([datetime.timedelta(minutes=10), datetime.timedelta(minutes=150),
                             datetime.timedelta(days=1), datetime.timedelta(seconds=rng.randint(1, 3 * 86400))])
        return rng.choice(changes) - before
    start = datetime.datetime(year, 1, 1, tzinfo=UTC) + datetime.timedelta(seconds=rng.randint(0, 365 * 86400))
    return start.replace(microsecond=rng.choice([0, 0, 0, 250000]))


_transitions = {}


def transitions_cached(zone_name, year):
    if (zone_name, year) not in _transitions:
        _transitions[(zone_name, year)] = [] if zone_name == "UTC" else transitions(zone(zone_name), year)
    return _transitions[(zone_name, year)]


def iso(instant, tz):
    return instant.astimezone(tz).isoformat()


def row_for(expression, zone_name, start, next_count, previous_count):
    """The next and previous fire times of `expression` in a zone from `start`, as Airflow finds them."""
    tz = zone(zone_name)
    syntax = to_croniter_syntax(expression)
    covers = covers_every_hour(parsed(syntax))
    nexts, t = [], start
    for _ in range(next_count):
        t = next_after(syntax, t, tz, covers)
        nexts.append(iso(t, tz))
    prevs, t = [], start
    for _ in range(previous_count):
        t = previous_before(syntax, t, tz, covers)
        prevs.append(iso(t, tz))
    return {"cron": expression, "zone": zone_name, "start": iso(start, UTC), "next": nexts, "previous": prevs}


def compute_rows():
    rows = []
    for zone_name in ZONES_WITH_DST + ZONES_WITHOUT_DST:
        for expression in EXPRESSIONS:
            for start in starts_for(zone_name):
                rows.append(row_for(expression, zone_name, start, NEXT_COUNT, PREV_COUNT))
    return rows


def compute_random_rows():
    """Rows for RANDOM_EXPRESSIONS drawn expressions, each in RANDOM_ROWS_PER_EXPRESSION random zones and
    starts; an expression croniter fails on is counted and left out."""
    rng = random.Random(RANDOM_SEED)
    rows, failed = [], []
    for _ in range(RANDOM_EXPRESSIONS):
        expression = cron_random_expressions.expression(rng)
        cases = [(zone_name, random_start(rng, zone_name))
                 for zone_name in rng.sample(RANDOM_ZONES, RANDOM_ROWS_PER_EXPRESSION)]
        try:
            rows += [row_for(expression, zone_name, start, RANDOM_NEXT_COUNT, RANDOM_PREVIOUS_COUNT)
                     for zone_name, start in cases]
        except CroniterError:
            failed.append(expression)
    return rows, failed


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


def render(rows, random_rows, random_failed):
    header = {
        "about": "Cron fire times as Airflow 2 computes them (croniter + its DST rules), with mayaflow's "
        "never-at-or-before/after rule. Written by tests/oracles/cron_oracle.py; do not edit by hand.",
        "croniter": croniter_version(),
        "tzdata": tzdata_version(),
        "next_count": NEXT_COUNT,
        "previous_count": PREV_COUNT,
        "excluded": EXCLUDED,
        "random": {
            "seed": RANDOM_SEED,
            "expressions": RANDOM_EXPRESSIONS,
            "rows": len(random_rows),
            "next_count": RANDOM_NEXT_COUNT,
            "previous_count": RANDOM_PREVIOUS_COUNT,
            "zones": RANDOM_ZONES,
            "croniter_fails_on": len(random_failed),
            "croniter_fails_on_first": random_failed[:20],
        },
        "croniter_skips_corrected": sorted(croniter_skips),
    }
    rows = rows + random_rows
    lines = ["{", '  "header": ' + json.dumps(header, sort_keys=True) + ",", '  "rows": [']
    lines += ["    " + json.dumps(row) + ("," if i + 1 < len(rows) else "") for i, row in enumerate(rows)]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="recompute and compare with the golden file")
    args = parser.parse_args()

    text = render(compute_rows(), *compute_random_rows())
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
