"""What bench/soak measures and how it judges growth: /proc samples of a process, the scheduler
loop's histogram from /metrics, percentiles, and the growth rule."""

import os
import re
import shutil
import subprocess
import threading
import time

LOOP_HISTOGRAM = "mayaflow_scheduler_loop_duration_seconds"


# ---------------------------------------------------------------------------------------------
# /proc


def proc_figures(pid):
    """{rss_kib, hwm_kib, anon_kib, file_kib, threads, fds} of a live process; None when it is gone.
    RssAnon is the process's own memory (heap, stacks, a sanitizer's shadow); RssFile is the pages
    of its program and libraries it has touched so far, which grows as new code paths run."""
    figures = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == "VmRSS":
                    figures["rss_kib"] = int(value.split()[0])
                elif key == "VmHWM":
                    figures["hwm_kib"] = int(value.split()[0])
                elif key == "RssAnon":
                    figures["anon_kib"] = int(value.split()[0])
                elif key == "RssFile":
                    figures["file_kib"] = int(value.split()[0])
                elif key == "Threads":
                    figures["threads"] = int(value)
        figures["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, ValueError):
        return None
    return figures if len(figures) == 6 else None


def children(pid):
    found = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                found += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return found


def find_supervisor(pid):
    """The daemon's task supervisor (`mayaflow _supervise`, docs/exec.md), or None."""
    for child in children(pid):
        try:
            with open("/proc/%d/cmdline" % child, "rb") as f:
                if b"_supervise" in f.read().split(b"\0"):
                    return child
        except OSError:
            pass
    return None


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_bytes(db_path):
    return sum(os.path.getsize(db_path + s) for s in ("", "-wal") if os.path.exists(db_path + s))


class Sampler(threading.Thread):
    """Every `interval` seconds: the daemon's and its task supervisor's /proc figures and the store's
    size, as (seconds since `t0`, {...}) in `samples`."""

    def __init__(self, pid, db_path, t0, interval):
        super().__init__(daemon=True)
        self.pid, self.db_path, self.t0, self.interval = pid, db_path, t0, interval
        self.samples = []
        self.supervisor = None
        self.stopped = threading.Event()

    def sample(self):
        daemon = proc_figures(self.pid)
        if daemon is None:
            return None
        if self.supervisor is None or proc_figures(self.supervisor) is None:
            self.supervisor = find_supervisor(self.pid)
        supervisor = proc_figures(self.supervisor) if self.supervisor else None
        row = dict(daemon, store=store_bytes(self.db_path), cpu=cpu_seconds(self.pid))
        if supervisor:
            row.update({"sup_" + k: v for k, v in supervisor.items()})
        return row

    def run(self):
        next_at = time.monotonic()
        while not self.stopped.is_set():
            row = self.sample()
            if row is not None:
                self.samples.append((time.monotonic() - self.t0, row))
            next_at += self.interval
            self.stopped.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self.stopped.set()
        self.join()


class HeapProbe:
    """The heap in use of a sanitizer build (ASan's own count of the bytes malloc'ed and not yet
    freed), read by calling __sanitizer_get_current_allocated_bytes() in the process with gdb. It
    sees what RSS hides under ASan: RSS also holds the quarantine of freed memory, the allocator's
    free chunks and their shadow. gdb stops the daemon for about a second each time."""

    CALLS = ["call (unsigned long)__sanitizer_get_current_allocated_bytes()",
             "call (unsigned long)__sanitizer_get_heap_size()"]

    def __init__(self, pid):
        self.pid = pid
        self.gdb = shutil.which("gdb")

    def read(self):
        """(bytes in use, bytes the allocator holds), or None (no gdb, not a sanitizer build, the
        call failed)."""
        if not self.gdb:
            return None
        try:
            done = subprocess.run([self.gdb, "-nx", "-batch", "-readnever", "-p", str(self.pid),
                                   "-ex", self.CALLS[0], "-ex", self.CALLS[1]],
                                  capture_output=True, text=True, timeout=60,
                                  start_new_session=True)  # a Ctrl-C does not stop gdb while it holds the daemon
        except subprocess.TimeoutExpired:
            return None
        in_use = re.search(r"^\$1 = (\d+)$", done.stdout, re.M)
        held = re.search(r"^\$2 = (\d+)$", done.stdout, re.M)
        return (int(in_use.group(1)), int(held.group(1))) if in_use and held else None


# ---------------------------------------------------------------------------------------------
# /metrics

BUCKET = re.compile(r'^%s_bucket\{le="([^"]+)"\} (\S+)$' % LOOP_HISTOGRAM)


def loop_buckets(metrics_text):
    """The scheduler loop histogram's cumulative buckets: [(upper bound s, count)], +Inf last."""
    buckets = []
    for line in metrics_text.splitlines():
        match = BUCKET.match(line)
        if match:
            buckets.append((float(match.group(1)), float(match.group(2))))
    return sorted(buckets)


def histogram_mean(before, after):
    """Mean seconds of the observations between two scrapes: (sum, count) deltas."""
    count = after[1] - before[1]
    return (after[0] - before[0]) / count if count > 0 else None


def loop_sum_count(metrics_text):
    figures = {}
    for line in metrics_text.splitlines():
        for key in ("sum", "count"):
            if line.startswith("%s_%s " % (LOOP_HISTOGRAM, key)):
                figures[key] = float(line.split()[1])
    return figures.get("sum", 0.0), figures.get("count", 0.0)


def histogram_quantile(fraction, before, after):
    """The `fraction` quantile of the observations between two scrapes of a cumulative histogram,
    interpolated inside its bucket as Prometheus's histogram_quantile() does: (seconds, turns,
    above_last_bound). None when there were no observations."""
    old = dict(before)
    delta = [(bound, count - old.get(bound, 0.0)) for bound, count in after]
    if not delta or delta[-1][1] <= 0:
        return None
    total = delta[-1][1]
    rank = fraction * total
    lower, below = 0.0, 0.0
    for bound, cumulative in delta:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower, int(total), True  # past the last finite bound: say so
            inside = cumulative - below
            share = (rank - below) / inside if inside > 0 else 1.0
            return lower + (bound - lower) * share, int(total), False
        lower, below = bound, cumulative
    return None


def percentile(values, fraction):
    values = sorted(values)
    if not values:
        return None
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


# ---------------------------------------------------------------------------------------------
# The growth rule


def slope_per_minute(points):
    """Theil-Sen slope of (seconds, value) points, in value units per minute: the median of the
    slopes between every two points, so that one spike (a turn that waited for a CPU, a burst of
    allocations) does not read as growth, as it would in a least-squares fit."""
    slopes = [(v2 - v1) / (t2 - t1) for i, (t1, v1) in enumerate(points) for t2, v2 in points[i + 1:] if t2 != t1]
    if not slopes:
        return None
    return 60 * percentile(slopes, 0.5)


class Rule:
    """A figure grows without bound when its slope over the second half of the run (units per
    minute) is above `fraction` of its first minute's median plus `floor` per minute."""

    def __init__(self, name, unit, fraction, floor):
        self.name, self.unit, self.fraction, self.floor = name, unit, fraction, floor

    def describe(self):
        return "%s: slope > %g %% of the first minute's value + %g %s, per minute" % (
            self.name, self.fraction * 100, self.floor, self.unit)

    def judge(self, points, minutes):
        """(verdict line, grew) for (seconds since the start, value) points of a run of `minutes`."""
        first = [v for t, v in points if t < 60]
        half = [(t, v) for t, v in points if t >= minutes * 30]
        slope = slope_per_minute(half)
        if not first or slope is None:
            return "%-16s not judged: too few points (%d in the first minute, %d in the second half)" % (
                self.name, len(first), len(half)), False
        base = percentile(first, 0.5)
        limit = self.fraction * base + self.floor
        grew = slope > limit
        return "%-16s first minute %9.2f %-4s  second half %+8.3f %s/min  (limit %+.3f)  %s" % (
            self.name, base, self.unit, slope, self.unit, limit,
            "GROWS" if grew else "bounded"), grew
