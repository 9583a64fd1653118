#!/usr/bin/python3
"""Checks mayaflow's template cases against real Jinja.

engine/template/testdata/jinja_cases.json lists templates with a JSON context and the output Jinja
gives (or the kind of error it raises). The C++ tests (engine/template/jinja_cases_test.cpp) must
match every case; this script makes sure the expectations are what Jinja really does.

Jinja is set up as Airflow sets it up for DAG templates: the sandboxed environment, StrictUndefined,
the `do` extension, no autoescape, keep_trailing_newline=False.

Usage (with Debian's python3 and python3-jinja2):
    /usr/bin/python3 tests/oracles/jinja_oracle.py           # fill in / refresh the expectations
    /usr/bin/python3 tests/oracles/jinja_oracle.py --check   # exit 1 if any expectation differs

Each case is {"name", "template", "context"?, then "expect": text, or "error": kind}, where kind is
"syntax" (TemplateSyntaxError), "undefined" (UndefinedError) or "runtime" (any other exception).
"""

import argparse
import json
import os
import sys

import jinja2
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = os.path.join(HERE, "..", "..", "engine", "template", "testdata", "jinja_cases.json")


def make_environment():
    return SandboxedEnvironment(undefined=StrictUndefined, extensions=["jinja2.ext.do"])


def render(env, case):
    """Returns ("expect", text) or ("error", kind)."""
    try:
        template = env.from_string(case["template"])
    except jinja2.TemplateSyntaxError:
        return "error", "syntax"
    try:
        return "expect", template.render(**case.get("context", {}))
    except jinja2.UndefinedError:
        return "error", "undefined"
    except Exception:  # noqa: BLE001 - every other failure is a runtime error to mayaflow
        return "error", "runtime"


def describe(field, value):
    return f"{field} {json.dumps(value, ensure_ascii=False)}"


def write_cases(path, cases):
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"cases": [\n')
        f.write(",\n".join(json.dumps(case, ensure_ascii=False) for case in cases))
        f.write("\n]}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting; exit 1 on a difference")
    parser.add_argument("cases", nargs="?", default=DEFAULT_CASES, help="the cases file")
    args = parser.parse_args()

    with open(args.cases, encoding="utf-8") as f:
        cases = json.load(f)["cases"]

    env = make_environment()
    names = set()
    differences = 0
    updated = []
    for case in cases:
        name = case.get("name", "")
        if not name or name in names:
            print(f"case names must be present and unique: {name!r}", file=sys.stderr)
            differences += 1
        names.add(name)
        field, value = render(env, case)
        if field not in case or case[field] != value or ("expect" in case and "error" in case):
            differences += 1
            had = describe("expect", case["expect"]) if "expect" in case else describe("error", case.get("error"))
            print(f"{name}: Jinja gives {describe(field, value)}, the file has {had}", file=sys.stderr)
        fresh = {key: case[key] for key in ("name", "template", "context") if key in case}
        fresh[field] = value
        updated.append(fresh)

    if args.check:
        print(f"{len(cases)} cases, {differences} differ from Jinja {jinja2.__version__}")
        return 1 if differences else 0
    write_cases(args.cases, updated)
    print(f"{len(cases)} cases written ({differences} changed) with Jinja {jinja2.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
