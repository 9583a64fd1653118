"""The notebook operator through `mayaflow tasks test`, with the real Jupyter: a parameter whose value is
not UTF-8 fails the task naming it (it once read past the value's end), text without template markup
reaches the notebook byte for byte, a MAYAFLOW_HOME with glob characters in its path still runs, and
the mistakes that can be seen in the DAG file are load errors with file:line:column."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW  # noqa: E402

NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 4, "metadata": {},
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "p = None", "outputs": [],
         "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": "print(repr(p))", "outputs": [], "execution_count": None},
    ]})


def sanitizer_report(text):
    return "AddressSanitizer" in text or "LeakSanitizer" in text or "runtime error:" in text


class NotebookTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="mayaflow-notebook-")
        self.use_folder(self.root)

    def use_folder(self, folder):
        """DAGs in folder/dags, the executed notebook at folder/out.ipynb."""
        self.dags = os.path.join(folder, "dags")
        self.output = os.path.join(folder, "out.ipynb")
        os.makedirs(self.dags, exist_ok=True)
        with open(os.path.join(self.dags, "x.ipynb"), "w", encoding="utf-8") as f:
            f.write(NOTEBOOK)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def write_dag(self, task_yaml):
        with open(os.path.join(self.dags, "nb.yaml"), "w", encoding="utf-8") as f:
            f.write("dag_id: nb\nschedule: null\ntasks:\n" + task_yaml.replace("OUTPUT", json.dumps(self.output)))

    def tasks_test(self, env=None):
        variables = {k.encode(): v.encode() for k, v in os.environ.items()}
        variables[b"MAYAFLOW_HOME"] = os.path.join(self.root, "home").encode()
        variables.update(env or {})
        r = subprocess.run([MAYAFLOW, "tasks", "test", "-S", self.dags, "nb", "t", "2024-01-02"],
                           env=variables, capture_output=True, timeout=300)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertFalse(sanitizer_report(out), out)
        return r.returncode, out

    def printed(self):
        """What the notebook's second cell printed, from the executed copy."""
        with open(self.output, encoding="utf-8") as f:
            cell = json.load(f)["cells"][2]
        texts = [o["text"] for o in cell["outputs"] if o["output_type"] == "stream"]
        return "".join(t if isinstance(t, str) else "".join(t) for t in texts)  # nbformat: a string or lines

    def test_a_value_that_is_not_utf8_fails_the_task_naming_the_parameter(self):
        self.write_dag("  - {task_id: t, operator: notebook, input_nb: x.ipynb,"
                       " parameters: {p: '{{ var.value.badbytes }}'}}\n")
        code, out = self.tasks_test(env={b"AIRFLOW_VAR_BADBYTES": b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\xf0"})
        self.assertEqual(code, 1, out)
        self.assertIn("parameters.p is not valid UTF-8 text: the byte at offset 46 (0xf0) is a sequence cut short",
                      out)

    def test_text_without_markup_reaches_the_notebook_byte_for_byte(self):
        self.write_dag('  - {task_id: t, operator: notebook, input_nb: x.ipynb, output_nb: OUTPUT,'
                       ' parameters: {p: "a\\r\\nb\\rc\\n\\n"}}\n')
        code, out = self.tasks_test()
        self.assertEqual(code, 0, out)
        self.assertEqual(self.printed(), "'a\\r\\nb\\rc\\n\\n'\n")

    def test_folders_with_glob_characters_in_their_paths(self):
        # `tasks test` keeps the try's files (the prepared copy nbconvert reads) in $TMPDIR, the daemon in
        # MAYAFLOW_HOME; the notebook and its output are under the same name here.
        folder = os.path.join(self.root, "x[1]*?")
        self.use_folder(folder)
        self.write_dag("  - {task_id: t, operator: notebook, input_nb: x.ipynb, output_nb: OUTPUT,"
                       " parameters: {p: '{{ ds }}'}}\n")
        code, out = self.tasks_test(env={b"TMPDIR": folder.encode(),
                                         b"MAYAFLOW_HOME": os.path.join(folder, "home").encode()})
        self.assertEqual(code, 0, out)
        self.assertEqual(self.printed(), "'2024-01-02'\n")

    def test_mistakes_in_the_dag_file_are_load_errors_with_their_place(self):
        cases = [
            ('kernel_name: ""', 'kernel_name is empty'),
            ("cell_timeout: 0", "cell_timeout must be more than 0s"),
            ("cell_timeout: -5", "durations cannot be negative"),
            ("parameters: {class: 1}", "parameter name 'class' cannot be a Python variable: it is a Python keyword"),
            ("parameters: {__builtins__: 1}",
             "parameter name '__builtins__' cannot be a Python variable: names that start and end with __"),
            ("parameters: {\U0001d413\U0001d42b\U0001d42e\U0001d41e: 1}",
             "cannot be a Python variable: it holds a character that is not ASCII"),
            ("parameters: {a\u00a0b: 1}", "cannot be a Python variable: it holds a character that is not ASCII"),
        ]
        for field, message in cases:
            with self.subTest(field=field):
                self.write_dag("  - task_id: t\n    operator: notebook\n    input_nb: x.ipynb\n    " + field + "\n")
                code, out = self.tasks_test()
                self.assertNotEqual(code, 0, out)
                self.assertIn(message, out)
                self.assertIn("nb.yaml:7:", out)


if __name__ == "__main__":
    unittest.main()
