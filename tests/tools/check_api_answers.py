#!/usr/bin/env python3
"""Holds every answer the API's unit tests received to the OpenAPI document.

The web tests append each answer their fixtures receive to $MAYAFLOW_API_ANSWERS (one JSON line per
answer: test, method, target, status, content_type, body; tests/web/answer_recorder.h). This reads
every *.jsonl file in the folder given and checks each answer under /api/v1 with openapi_check,
against web/openapi/*.yaml merged as the daemon merges them (the binary embeds those same parts).
It prints how many answers it checked and every mismatch (once per operation, status and reason,
with the test case that saw it first), and exits 1 when there was one, 2 when there was nothing to
check.

    check_api_answers.py build-sanitize/api-answers
"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import openapi_check  # noqa: E402


def main(folder):
    document = openapi_check.source_document()
    files = sorted(glob.glob(os.path.join(folder, "*.jsonl")))
    checked = 0
    failures = {}  # first line of the reason -> (count, test, file, reason)
    for path in files:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                answer = json.loads(line)
                if not answer["target"].startswith("/api/v1/"):
                    continue
                checked += 1
                try:
                    openapi_check.check(document, answer["method"], answer["target"], answer["status"],
                                        answer["content_type"], answer["body"])
                except AssertionError as error:
                    reason = str(error)
                    key = reason.split(": ", 1)[-1][:200] + answer["method"] + str(answer["status"])
                    count, *first = failures.get(key, (0, answer["test"], "%s:%d" % (path, number), reason))
                    failures[key] = (count + 1, *first)
    print("checked %d answers of the API's unit tests (%d files) against web/openapi/" % (checked, len(files)))
    for count, test, where, reason in failures.values():
        print("\n%s\n  (%d answer(s); first in test case %r, %s)" % (reason, count, test, where))
    if failures:
        print("\n%d kind(s) of answer do not match the document: change the answer or document it" % len(failures))
        return 1
    if checked == 0:
        print("nothing to check: run web_tests with MAYAFLOW_API_ANSWERS=<folder>/<name>.jsonl first")
        return 2
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
