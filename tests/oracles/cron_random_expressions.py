"""Random cron expressions for tests/oracles/cron_oracle.py, drawn from a seeded generator.

The expressions use only syntax that both croniter 1.3.5 and mayaflow accept: numbers, month and weekday
names in any case, ranges (a day-of-week range may end on SUN), steps on `*`, on ranges and on single
values, lists, full ranges written out (`1-31`, `0-6`, `*/1`), `L` and `a-L` in the day of month, `w#k` and
`Lw` in the day of week (alone, together, or beside `*` and the same weekday, which croniter accepts), and
restricted and unrestricted day fields in every combination. Steps stay within the field's range here; steps
beyond it (`*/90`, which croniter and mayaflow read as `0`) are among the oracle's chosen expressions. A few of the drawn expressions make croniter fail (for example
`0 0 31 2 *`, or `0 0 15 * FRI#2`, where croniter looks for a 15th that is a second Friday); the oracle
counts and skips those.
"""

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


class Field:
    """One field's range and, for months and weekdays, the names of its values."""

    def __init__(self, low, high, names=None, first_named=0):
        self.low, self.high, self.names, self.first_named = low, high, names, first_named

    def value(self, rng, v):
        if self.names and rng.random() < 0.4:
            name = self.names[(v - self.first_named) % len(self.names)]
            return rng.choice([name, name.lower(), name.capitalize()])
        return str(v)


MINUTE = Field(0, 59)
HOUR = Field(0, 23)
DAY_OF_MONTH = Field(1, 31)
MONTH = Field(1, 12, MONTHS, 1)
DAY_OF_WEEK = Field(0, 7, WEEKDAYS, 0)


def item(rng, field, last_day_as_l=False):
    """One list item: a value, a range, a step, or the whole range written out."""
    low, high = field.low, field.high
    kind = rng.choice(["value", "value", "range", "star_step", "range_step", "start_step", "whole"])
    if kind == "value":
        return field.value(rng, rng.randint(low, high))
    if kind == "whole":
        return rng.choice(["%s-%s" % (field.value(rng, low), field.value(rng, high)), "*/1",
                           "%d-%d/1" % (low, high)])
    a = rng.randint(low, high - 1)
    b = rng.randint(a + 1, high)
    if kind == "range":
        if last_day_as_l and b == high and rng.random() < 0.4:
            return "%s-L" % a
        return "%s-%s" % (field.value(rng, a), field.value(rng, b))
    if kind == "star_step":
        return "*/%d" % rng.randint(2, (high - low) // 2 + 1)
    if kind == "range_step":
        return "%s-%s/%d" % (field.value(rng, a), field.value(rng, b), rng.randint(1, b - a))
    return "%s/%d" % (field.value(rng, a), rng.randint(1, high - a))


def field_text(rng, field, star_chance, max_items, last_day_as_l=False):
    if rng.random() < star_chance:
        return "*"
    return ",".join(item(rng, field, last_day_as_l) for _ in range(rng.randint(1, max_items)))


def day_of_month(rng):
    r = rng.random()
    if r < 0.35:
        return "*"
    if r < 0.47:
        return rng.choice(["L", "l", "%d,L" % rng.randint(1, 28), "L,%d" % rng.randint(1, 31),
                           "%s,L" % item(rng, DAY_OF_MONTH)])
    return field_text(rng, DAY_OF_MONTH, 0, 3, last_day_as_l=True)


def day_of_week(rng):
    r = rng.random()
    if r < 0.35:
        return "*"
    if r < 0.6:
        # croniter takes `#` and `L` after a single weekday, and refuses plain weekdays beside them
        # unless they are the same weekdays (or `*`), which it then ignores.
        items, weekdays = [], []
        for _ in range(rng.randint(1, 2)):
            w = rng.randint(0, 7)
            weekdays.append(w)
            if rng.random() < 0.6:
                items.append("%s#%d" % (DAY_OF_WEEK.value(rng, w), rng.randint(1, 5)))
            else:
                items.append("L%d" % w)
        if rng.random() < 0.2:
            items.append(rng.choice(["*", DAY_OF_WEEK.value(rng, rng.choice(weekdays))]))
        rng.shuffle(items)
        return ",".join(items)
    return field_text(rng, DAY_OF_WEEK, 0, 2)


def expression(rng):
    minute = str(rng.randint(0, 59)) if rng.random() < 0.3 else field_text(rng, MINUTE, 0.1, 2)
    hour = field_text(rng, HOUR, 0.25, 2)
    month = field_text(rng, MONTH, 0.6, 2)
    return " ".join([minute, hour, day_of_month(rng), month, day_of_week(rng)])
