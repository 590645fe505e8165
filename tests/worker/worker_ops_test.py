#!/usr/bin/env python3
"""worker_ops_test: every aidi-worker op against numpy/pandas on generated data.

Each op runs as the real binary over seeded random tables (a few thousand rows, NULLs sprinkled
in) and its CSV output is compared with the same computation in numpy/pandas: integers exactly,
doubles to 1e-9 relative. Parquet has no reader here (no pyarrow), so it is checked by round
trips through the worker itself (csv -> parquet -> csv). Also covered: empty inputs, every
op's params errors, each bad-input case of the issue (ragged and unparsable CSV rows, unknown
op, type mismatch, corrupt Parquet, a model without its features), atomic output (a failed run
leaves the output directory exactly as it was), the summary line, --termination-log, `ops`,
`--help` and `--device cuda`.

usage: worker_ops_test.py --worker PATH/TO/aidi-worker [unittest args]
"""

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import numpy as np
import pandas as pd

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "devcluster"))
from harness import take_arg  # noqa: E402
WORKER = None  # set in __main__
THREADS = "2"
REL = 1e-9
SUMMARY_KEYS = ["op", "rowsIn", "rowsOut", "rowsRejected", "seconds", "device"]
COLUMNS = ["id", "k", "g", "i", "x", "y", "s", "c"]
N = 3000


# ---- data -------------------------------------------------------------------------------------

def with_nulls(rng, values, rate=0.05):
    """`values` as a list with about `rate` of them replaced by None."""
    mask = rng.random(len(values)) < rate
    return [None if m else v for v, m in zip(values, mask)]


def make_table(seed, n=N):
    """The main table: a unique int key, string and int group keys, ints, doubles, a column with
    zeros and negatives (log), and a constant column (std 0); every column but id has nulls."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": [int(v) for v in rng.permutation(n)],
        "k": with_nulls(rng, [str(v) for v in rng.choice(["a", "b", "c", "d"], n)]),
        "g": with_nulls(rng, [int(v) for v in rng.integers(0, 8, n)]),
        "i": with_nulls(rng, [int(v) for v in rng.integers(-1000, 1001, n)]),
        "x": with_nulls(rng, [float(v) for v in rng.normal(50.0, 20.0, n)]),
        "y": with_nulls(rng, [float(v) for v in rng.uniform(-1.0, 1.0, n)]),
        "s": with_nulls(rng, [float(v) for v in rng.choice([0.0, 0.5, 1.0, 2.5, 10.0, -1.0], n)]),
        "c": with_nulls(rng, [7] * n),
    }, dtype=object)


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_csv(path, df, delimiter=","):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        w.writerow(list(df.columns))
        for row in df.itertuples(index=False):
            w.writerow([cell(v) for v in row])


def read_csv(path):
    """A CSV the worker wrote, as (header, DataFrame of str/None): DuckDB writes NULL as an empty
    field (the tables here hold no empty strings)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    body = [[None if v == "" else v for v in r] for r in rows[1:]]
    for r in body:
        assert len(r) == len(header), (path, r)
    return header, pd.DataFrame(body, columns=header, dtype=object)


def floats(values):
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def ints(values):
    return [None if v is None else int(v) for v in values]


def strs(values):
    return [None if v is None else str(v) for v in values]


def bools(values):
    out = []
    for v in values:
        if v is None:
            out.append(None)
        else:
            assert v in ("true", "false"), v
            out.append(v == "true")
    return out


def null_last(values, desc=False):
    """Sorted values, nulls (None or NaN) last either way."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sorted(present, reverse=desc) + [None] * (len(values) - len(present))


def sort_rows(rows, keys):
    """rows (dicts) ordered by keys [(column, desc)], nulls last either way (stable passes)."""
    for column, desc in reversed(keys):
        present = [r for r in rows if r[column] is not None]
        missing = [r for r in rows if r[column] is None]
        rows = sorted(present, key=lambda r: r[column], reverse=desc) + missing
    return rows


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


# ---- the worker -------------------------------------------------------------------------------

class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        lines = [l for l in self.stdout.splitlines() if l.strip()]
        self.last = lines[-1] if lines else ""

    def __repr__(self):
        return "rc=%d\nstdout: %s\nstderr: %s" % (self.rc, self.stdout[-2000:], self.stderr[-2000:])


def worker(*args, timeout=120):
    proc = subprocess.run([WORKER, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)
    return Result(proc)


def dir_state(path):
    """Every entry of a directory with its size, mtime and content hash: what a failed run must
    leave unchanged."""
    state = {}
    for name in sorted(os.listdir(path)):
        p = os.path.join(path, name)
        st = os.stat(p)
        with open(p, "rb") as f:
            state[name] = (st.st_size, st.st_mtime_ns, hash(f.read()))
    return state


class WorkerTest(unittest.TestCase):
    """Shared inputs (made once) and helpers; each test writes into its own output directory."""

    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="aidi-worker-test-")
        cls.data_dir = os.path.join(cls.root, "data")
        os.mkdir(cls.data_dir)
        cls.df = make_table(20260101)
        cls.main_csv = cls.data_path("main.csv")
        write_csv(cls.main_csv, cls.df)
        # An empty table with types: header-only CSV through convert's schema to Parquet.
        cls.header_csv = cls.data_path("header_only.csv")
        with open(cls.header_csv, "w") as f:
            f.write(",".join(COLUMNS) + "\n")
        cls._counter = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    @classmethod
    def data_path(cls, name):
        return os.path.join(cls.data_dir, name)

    def setUp(self):
        self.out_dir = tempfile.mkdtemp(prefix="out-", dir=self.root)

    def out(self, name):
        return os.path.join(self.out_dir, name)

    def write(self, name, text):
        path = self.out(name) if os.sep not in name else name
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- running ops --

    def args(self, op, params, inputs, output, extra=()):
        if not isinstance(params, str):
            params = json.dumps(params)
        if isinstance(inputs, str):
            inputs = [inputs]
        return (["run", "--op", op, "--params", params, "--input", *inputs, "--output", output,
                 "--threads", THREADS, "--termination-log", self.out("no-termination-log")]
                + list(extra))

    def check_summary(self, r, op):
        """The last stdout line is exactly the summary object."""
        summary = json.loads(r.last)
        keys = SUMMARY_KEYS + (["metrics"] if op == "train" else [])
        self.assertEqual(list(summary.keys()), keys, r.last)
        self.assertEqual(summary["op"], op)
        for k in ("rowsIn", "rowsOut", "rowsRejected"):
            self.assertIsInstance(summary[k], int, r.last)
            self.assertGreaterEqual(summary[k], 0, r.last)
        self.assertIsInstance(summary["seconds"], (int, float), r.last)
        self.assertGreaterEqual(summary["seconds"], 0)
        self.assertLess(summary["seconds"], 600)
        self.assertIn(summary["device"], ("cpu", "cuda"))
        return summary

    def run_ok(self, op, params, inputs, output=None, extra=(), device_cpu=True):
        """Runs an op that must succeed; returns (summary, output path)."""
        output = output or self.out("out.csv")
        r = worker(*self.args(op, params, inputs, output, extra))
        self.assertEqual(r.rc, 0, r)
        summary = self.check_summary(r, op)
        if device_cpu:
            self.assertEqual(summary["device"], "cpu", "small inputs run on the CPU")
        self.assertTrue(os.path.isfile(output), output)
        self.assertEqual([n for n in os.listdir(os.path.dirname(output)) if ".tmp-" in n], [])
        return summary, output

    def run_csv(self, op, params, inputs, extra=()):
        """Runs an op with a CSV output; returns (summary, header, DataFrame of str/None)."""
        summary, output = self.run_ok(op, params, inputs, self.out("out.csv"), extra)
        header, df = read_csv(output)
        return summary, header, df

    def fails(self, op, params, inputs, *needles, output=None, extra=(), raw_args=None):
        """Runs something that must fail cleanly: non-zero exit, the error as the last stderr line
        (one line, naming each of `needles`), no summary on stdout, the output directory exactly
        as before (no output, no temp file, a pre-existing output untouched). Returns the message."""
        output = output or self.out("out.csv")
        before = dir_state(os.path.dirname(output))
        args = raw_args if raw_args is not None else self.args(op, params, inputs, output, extra)
        r = worker(*args)
        self.assertNotEqual(r.rc, 0, r)
        self.assertEqual(dir_state(os.path.dirname(output)), before,
                         "a failed run changed the output directory\n%r" % r)
        for line in r.stdout.splitlines():
            self.assertFalse(line.startswith("{"), "summary printed by a failed run: %r" % r)
        lines = r.stderr.rstrip("\n").splitlines()
        self.assertTrue(lines, r)
        last = lines[-1]
        self.assertTrue(last.startswith("aidi-worker: "), r)
        message = last[len("aidi-worker: "):]
        for needle in needles:
            self.assertIn(needle, message, r)
        return message

    # -- comparing --

    def assert_floats(self, actual, expected, what, scale=0.0):
        """Doubles to REL relative (or REL * scale absolute, for values that are differences of
        near-equal numbers); nulls (NaN) in exactly the same places."""
        a = np.asarray(actual, dtype=float)
        e = np.asarray(expected, dtype=float)
        self.assertEqual(a.shape, e.shape, what)
        na, ne = np.isnan(a), np.isnan(e)
        bad = np.nonzero(na != ne)[0]
        self.assertEqual(len(bad), 0, "%s: null differs at rows %s" % (what, bad[:10]))
        a, e = a[~na], e[~ne]
        tol = np.maximum(REL * np.abs(e), REL * scale)
        same = (a == e) | (np.abs(a - e) <= tol)
        bad = np.nonzero(~same)[0]
        self.assertEqual(len(bad), 0, "%s: rows %s: %s != %s"
                         % (what, bad[:5], a[bad[:5]].tolist(), e[bad[:5]].tolist()))


# ---- the CLI contract ---------------------------------------------------------------------------

class CliTest(WorkerTest):

    def test_help_and_ops(self):
        r = worker("--help")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("run", r.stdout)
        self.assertIn("ops", r.stdout)
        r = worker("run", "--help")
        self.assertEqual(r.rc, 0, r)
        for flag in ("--op", "--params", "--input", "--output", "--device", "--threads"):
            self.assertIn(flag, r.stdout)
        names = ["clean", "convert", "filter", "groupby", "histogram", "noop", "normalize",
                 "predict", "select", "sort", "train"]
        r = worker("ops")
        self.assertEqual(r.rc, 0, r)
        for name in names:
            self.assertRegex(r.stdout, re.compile(r"^%s$" % name, re.M))
        r = worker("ops", "--json")
        self.assertEqual(r.rc, 0, r)
        listed = json.loads(r.stdout)
        self.assertEqual(sorted(o["op"] for o in listed), names)
        for o in listed:
            self.assertTrue(o["summary"] and o["params"], o)

    def test_summary_line_exact(self):
        summary, output = self.run_ok("noop", {}, self.main_csv)
        self.assertEqual(summary["rowsIn"], N)
        self.assertEqual(summary["rowsOut"], N)
        self.assertEqual(summary["rowsRejected"], 0)
        header, df = read_csv(output)
        self.assertEqual(header, COLUMNS)
        self.assertEqual(ints(df["id"]), list(self.df["id"]))

    def test_usage_errors(self):
        r = worker("run", "--op", "noop", "--input", self.main_csv)  # no --output
        self.assertNotEqual(r.rc, 0)
        self.assertIn("--output", r.stderr)
        r = worker("run", "--op", "noop", "--input", self.main_csv, "--output", self.out("o.csv"),
                   "--device", "tpu")
        self.assertNotEqual(r.rc, 0)
        self.assertFalse(os.path.exists(self.out("o.csv")))
        self.assertEqual(worker().rc != 0, True)

    def test_termination_log(self):
        log = self.write("termination-log", "")
        before = os.listdir(self.out_dir)
        r = worker(*self.args("noop", {}, self.main_csv, self.out("t.csv"))[:-2],
                   "--termination-log", log)
        self.assertEqual(r.rc, 0, r)
        with open(log) as f:
            self.assertEqual(f.read().strip(), r.last)
        # On failure it holds the error, the stderr line without its prefix.
        os.remove(self.out("t.csv"))
        r = worker(*self.args("filter", {"where": "nope > 1"}, self.main_csv,
                              self.out("t.csv"))[:-2], "--termination-log", log)
        self.assertNotEqual(r.rc, 0, r)
        with open(log) as f:
            text = f.read()
        self.assertEqual(len(text.strip().splitlines()), 1, text)
        self.assertEqual("aidi-worker: " + text.strip(), r.stderr.strip().splitlines()[-1])
        self.assertIn("nope", text)
        self.assertEqual(sorted(os.listdir(self.out_dir)), sorted(before))
        # A termination log that does not exist is not created.
        missing = self.out("missing-log")
        r = worker(*self.args("noop", {}, self.main_csv, self.out("t.csv"))[:-2],
                   "--termination-log", missing)
        self.assertEqual(r.rc, 0, r)
        self.assertFalse(os.path.exists(missing))

    def test_unknown_op(self):
        msg = self.fails("frobnicate", {}, self.main_csv, "frobnicate", "unknown op")
        for name in ("filter", "groupby", "train"):
            self.assertIn(name, msg)

    def test_bad_params_json(self):
        msg = self.fails("filter", '{"where": "x > 1"', self.main_csv, "params", "invalid JSON")
        self.assertRegex(msg, r"byte \d+")
        self.fails("filter", "[1, 2]", self.main_csv, "params", "must be a JSON object")
        self.fails("filter", "'where'", self.main_csv, "invalid JSON")

    def test_params_from_file(self):
        path = self.write("params.json", json.dumps({"where": "id < 10"}))
        summary, header, df = self.run_csv("filter", "@" + path, self.main_csv)
        self.assertEqual(summary["rowsOut"], 10)
        self.fails("filter", "@" + self.out("absent.json"), self.main_csv, "absent.json")

    def test_device_cuda(self):
        """No GPU here: --device cuda fails with a clear message and no output. (On a machine with
        a GPU it must instead give the CPU's result, on "cuda".)"""
        params = {"where": "x > 50 and i % 3 = 0"}
        cpu_summary, cpu_out = self.run_ok("filter", params, self.main_csv, self.out("cpu.csv"),
                                           extra=["--device", "cpu"])
        output = self.out("cuda.csv")
        r = worker(*self.args("filter", params, self.main_csv, output, ["--device", "cuda"]))
        if r.rc == 0:
            summary = self.check_summary(r, "filter")
            self.assertEqual(summary["device"], "cuda")
            self.assertEqual(read_csv(output)[1].values.tolist(),
                             read_csv(cpu_out)[1].values.tolist())
        else:
            os.remove(cpu_out)
            self.fails("filter", params, self.main_csv, "--device cuda", "CUDA", output=output,
                       extra=["--device", "cuda"])
        # An op without a CUDA path says so, GPU or not.
        self.fails("convert", {}, self.main_csv, "--device cuda", "convert", "no CUDA path",
                   output=self.out("c.csv"), extra=["--device", "cuda"])
        # auto on a small input: the CPU.
        summary, _ = self.run_ok("filter", params, self.main_csv, self.out("auto.csv"),
                                 extra=["--device", "auto"])
        self.assertEqual(summary["device"], "cpu")

    def test_input_and_output_errors(self):
        self.fails("noop", {}, self.out("absent.csv"), "absent.csv", "no such file")
        self.fails("noop", {}, self.write("data.txt", "a\n1\n"), "data.txt", "unknown format")
        self.fails("noop", {}, self.main_csv, "out.xlsx", "unknown format",
                   output=self.out("out.xlsx"))
        # A stage writes into its own folder: missing directories are made.
        nested = os.path.join(tempfile.mkdtemp(prefix="nested-", dir=self.root), "new", "stage", "o.csv")
        self.run_ok("noop", {}, self.main_csv, nested)
        blocker = self.write("blocker", "a file, not a directory")
        r = worker(*self.args("noop", {}, self.main_csv, os.path.join(blocker, "o.csv")))
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("cannot create directory", r.stderr.splitlines()[-1])
        # Inputs are URIs in a Pipeline: file:// is a local path, other schemes are refused.
        r = worker(*self.args("noop", {}, "file://" + self.main_csv, "file://" + self.out("u.csv")))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.check_summary(r, "noop")["rowsIn"], N)
        self.assertTrue(os.path.isfile(self.out("u.csv")))
        self.fails("noop", {}, "s3://bucket/data.csv", "s3://bucket/data.csv", "local files",
                   "custom stage")
        self.fails("noop", {}, "file://relative.csv", "absolute path")
        self.fails("noop", {}, self.main_csv, "o.json", "writes a table", output=self.out("o.json"))
        parquet = self.out("p.parquet")
        self.run_ok("convert", {}, self.main_csv, parquet)
        os.rename(parquet, self.data_path("mixed.parquet"))
        self.fails("noop", {}, [self.main_csv, self.data_path("mixed.parquet")], "different formats")

    def several_inputs(self, reorder):
        a, b = self.out("a.csv"), self.out("b.csv")
        write_csv(a, self.df.iloc[:1000])
        write_csv(b, self.df.iloc[1000:][list(reversed(COLUMNS)) if reorder else COLUMNS])
        summary, header, df = self.run_csv("sort", {"by": ["id"]}, [a, b])
        self.assertEqual(summary["rowsIn"], N)
        self.assertEqual(header, COLUMNS)
        self.assertEqual(ints(df["id"]), list(range(N)))
        by_id = self.df.set_index(self.df["id"].astype(int))
        self.assertEqual(ints(df["i"]), [by_id.loc[j, "i"] for j in range(N)])
        # Parquet files too.
        pa, pb = self.out("a.parquet"), self.out("b.parquet")
        self.run_ok("convert", {}, a, pa)
        self.run_ok("convert", {}, b, pb)
        summary, header, df = self.run_csv("sort", {"by": ["id"]}, [pa, pb])
        self.assertEqual((summary["rowsIn"], header), (N, COLUMNS))
        self.assertEqual(ints(df["i"]), [by_id.loc[j, "i"] for j in range(N)])

    def test_several_inputs_are_one_table(self):
        self.several_inputs(reorder=False)

    def test_several_inputs_match_columns_by_name(self):
        self.several_inputs(reorder=True)


# ---- atomic output ------------------------------------------------------------------------------

class AtomicOutputTest(WorkerTest):

    def test_failed_run_leaves_existing_output_untouched(self):
        target = self.write("keep.csv", "old,content\n1,2\n")
        for op, params in (("filter", {"where": "x >"}),
                           ("sort", {"by": ["nope"]}),
                           ("groupby", {"keys": ["k"], "aggs": {"n": "median(x)"}}),
                           ("convert", {"schema": {"k": "int64"}})):
            self.fails(op, params, self.main_csv, output=target)
        with open(target) as f:
            self.assertEqual(f.read(), "old,content\n1,2\n")

    def test_failure_during_write_leaves_no_temp_file(self):
        """A fault found while the output is being written (an integer overflow in sum, a bad row
        found by the streaming reader) removes the temp file and keeps the old output."""
        big = self.write("big.csv", "k,v\na,9000000000000000000\na,9000000000000000000\n")
        target = self.write("keep.csv", "old\n")
        self.fails("groupby", {"keys": ["k"], "aggs": {"s": "sum(v)"}}, big, output=target)
        ragged = self.write("ragged.csv", "a,b\n1,2\n3,4\n5\n")
        self.fails("convert", {}, ragged, "ragged.csv", output=target)
        self.fails("convert", {}, ragged, "ragged.csv", output=self.out("new.parquet"))
        with open(target) as f:
            self.assertEqual(f.read(), "old\n")

    def test_success_replaces_existing_output(self):
        target = self.write("replace.csv", "old\n")
        self.run_ok("filter", {"where": "id < 5"}, self.main_csv, target)
        header, df = read_csv(target)
        self.assertEqual(header, COLUMNS)
        self.assertEqual(sorted(ints(df["id"])), [0, 1, 2, 3, 4])


# ---- convert, CSV reading, Parquet ----------------------------------------------------------------

class ConvertTest(WorkerTest):

    def assert_same_table(self, df, expected):
        self.assertEqual(list(df.columns), list(expected.columns))
        self.assertEqual(len(df), len(expected))
        for c in expected.columns:
            kinds = {type(v) for v in expected[c] if v is not None}
            if kinds <= {int}:
                self.assertEqual(ints(df[c]), list(expected[c]), c)
            elif kinds <= {float}:
                # Round trips are exact: DuckDB prints the shortest text that reads back.
                self.assertEqual(floats(df[c]).tolist().__repr__(),
                                 floats(expected[c]).tolist().__repr__(), c)
            else:
                self.assertEqual(strs(df[c]), list(expected[c]), c)

    def test_csv_parquet_csv_round_trip(self):
        summary, parquet = self.run_ok("convert", {}, self.main_csv, self.out("t.parquet"))
        self.assertEqual((summary["rowsIn"], summary["rowsOut"], summary["rowsRejected"]), (N, N, 0))
        summary, header, df = self.run_csv("convert", {}, parquet)
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (N, N))
        self.assertEqual(header, COLUMNS)
        self.assert_same_table(df, self.df)
        # Parquet to Parquet and TSV, both ways.
        _, p2 = self.run_ok("noop", {}, parquet, self.out("t2.parquet"))
        _, tsv = self.run_ok("convert", {}, p2, self.out("t.tsv"))
        with open(tsv) as f:
            self.assertEqual(f.readline().rstrip("\n").split("\t"), COLUMNS)
        summary, header, df = self.run_csv("convert", {}, tsv)
        self.assert_same_table(df, self.df)

    def test_parquet_keeps_types(self):
        """Types survive Parquet: a column typed string by schema stays a string."""
        _, parquet = self.run_ok("convert", {"schema": {"g": "string", "x": "double", "c": "double"}},
                                 self.main_csv, self.out("t.parquet"))
        self.fails("normalize", {"columns": ["g"]}, parquet, "params.columns[0]", "'g'", "VARCHAR",
                   "not a number")
        summary, header, df = self.run_csv("select", {"derive": {"c2": "c / 2"}}, parquet)
        self.assertEqual(strs(df["g"]), [None if v is None else str(v) for v in self.df["g"]])
        self.assertEqual(floats(df["c"]).tolist().__repr__(),
                         floats(self.df["c"]).tolist().__repr__())  # 7.0 now
        self.assertTrue(all(v is None or v == "7.0" for v in df["c"]), set(df["c"]))
        # Parquet input with a schema: columns are cast.
        summary, header, df = self.run_csv("convert", {"schema": {"g": "int64"}}, parquet)
        self.assertEqual(ints(df["g"]), list(self.df["g"]))
        self.fails("convert", {"schema": {"k": "int64"}}, parquet, "k")

    def test_csv_options(self):
        text = "1;hello;NA\n2;NA;2.5\n3;x;\n"
        path = self.write("semi.csv", text)
        params = {"csv": {"delimiter": ";", "header": False, "nullValues": ["NA", ""]},
                  "schema": {"column0": "int64", "column2": "double"}}
        summary, header, df = self.run_csv("convert", params, path)
        self.assertEqual(summary["rowsIn"], 3)
        self.assertEqual(header, ["column0", "column1", "column2"])
        self.assertEqual(ints(df["column0"]), [1, 2, 3])
        self.assertEqual(strs(df["column1"]), ["hello", None, "x"])
        self.assertEqual(floats(df["column2"]).tolist().__repr__(), "[nan, 2.5, nan]")

    def test_schema_types(self):
        path = self.write("typed.csv", "a,b,c,d,e\n1,2,true,2024-01-02,2024-01-02 03:04:05\n"
                                       "-5,,false,,\n")
        params = {"schema": {"a": "double", "b": "string", "c": "bool", "d": "date",
                             "e": "timestamp"}}
        summary, header, df = self.run_csv("convert", params, path)
        self.assertEqual(df.values.tolist(), [["1.0", "2", "true", "2024-01-02", "2024-01-02 03:04:05"],
                                              ["-5.0", None, "false", None, None]])
        self.fails("convert", {"schema": {"a": "complex"}}, path, "params.schema.a", "unknown type",
                   "complex")
        self.fails("convert", {"schema": {"a": 5}}, path, "params.schema.a", "string")
        self.fails("convert", {"schema": ["a"]}, path, "params.schema", "object")
        self.fails("convert", {"schema": {"zz": "int64"}}, path, "params.schema.zz", "unknown column",
                   "'zz'", "columns: a, b, c, d, e")

    def test_params_errors(self):
        p = self.main_csv
        self.fails("convert", {"csvv": {}}, p, "params.csvv", "unknown parameter", "csv, schema")
        self.fails("convert", {"csv": {"delim": ";"}}, p, "params.csv.delim", "unknown parameter")
        self.fails("convert", {"csv": {"delimiter": ";;"}}, p, "params.csv.delimiter", "one character")
        self.fails("convert", {"csv": {"header": "yes"}}, p, "params.csv.header", "true or false")
        self.fails("convert", {"csv": {"nullValues": "NA"}}, p, "params.csv.nullValues", "array")
        self.fails("convert", {"csv": {"onBadRow": "ignore"}}, p, "params.csv.onBadRow", "ignore")
        self.fails("convert", {"csv": 5}, p, "params.csv", "object")

    def test_ragged_row_fails_naming_file_line_column(self):
        lines = ["a,b,c"] + ["%d,%d,%d" % (j, j * 2, j * 3) for j in range(1, 200)]
        lines[120] = "120,240"  # line 121 of the file: a column short
        path = self.write("ragged.csv", "\n".join(lines) + "\n")
        msg = self.fails("convert", {}, path, path, "line 121", "column", "onBadRow")
        self.assertNotIn("\n", msg)
        # Every op that reads the CSV fails the same way, also when DuckDB sees that the result
        # is empty without reading the rows (a condition never true, limit 0).
        for op, params in (("filter", {"where": "a > 0"}), ("sort", {"by": ["a"]}),
                           ("noop", {}), ("filter", {"where": "a > 0 and false"}),
                           ("sort", {"by": ["a"], "limit": 0}), ("normalize", {"columns": ["a"]}),
                           ("groupby", {"keys": ["b"], "aggs": {"n": "count()"}})):
            self.fails(op, params, path, path, "line 121")
        # Too many columns too.
        lines[120] = "120,240,360,480"
        path = self.write("wide.csv", "\n".join(lines) + "\n")
        self.fails("convert", {}, path, path, "line 121")

    def test_bad_rows_skipped_and_counted(self):
        lines = ["a,b,c"] + ["%d,%d,%d" % (j, j * 2, j * 3) for j in range(1, 301)]
        lines[50] = "50,100"
        lines[100] = "100,200,300,400"
        lines[200] = "200,x,600"  # unparsable under the schema
        path = self.write("bad.csv", "\n".join(lines) + "\n")
        params = {"csv": {"onBadRow": "skip"}, "schema": {"a": "int64", "b": "int64", "c": "int64"}}
        summary, header, df = self.run_csv("convert", params, path)
        self.assertEqual(summary["rowsRejected"], 3)
        self.assertEqual(summary["rowsOut"], 297)
        self.assertEqual(summary["rowsIn"], 300)
        expected = [j for j in range(1, 301) if j not in (50, 100, 200)]
        self.assertEqual(ints(df["a"]), expected)
        self.assertEqual(ints(df["b"]), [2 * j for j in expected])
        # To Parquet too, and the Parquet reads back the same.
        summary, parquet = self.run_ok("convert", params, path, self.out("good.parquet"))
        self.assertEqual(summary["rowsRejected"], 3)
        summary, header, df = self.run_csv("noop", {}, parquet)
        self.assertEqual(ints(df["a"]), expected)

    def test_unparsable_value_under_schema(self):
        lines = ["a,b"] + ["%d,%d.5" % (j, j) for j in range(1, 100)]
        lines[42] = "42,forty-two"
        path = self.write("unparsable.csv", "\n".join(lines) + "\n")
        self.fails("convert", {"schema": {"b": "double"}}, path, path, "line 43", "column 'b'")
        self.fails("convert", {"schema": {"a": "int64", "b": "double"}}, path, "line 43",
                   output=self.out("o.parquet"))

    def test_corrupt_parquet(self):
        _, good = self.run_ok("convert", {}, self.main_csv, self.out("good.parquet"))
        with open(good, "rb") as f:
            data = f.read()
        garbage = self.data_path("garbage.parquet")
        with open(garbage, "wb") as f:
            f.write(b"this is not a parquet file at all" * 10)
        truncated = self.data_path("truncated.parquet")
        with open(truncated, "wb") as f:
            f.write(data[:len(data) // 2])
        for bad in (garbage, truncated):
            for op, params in (("noop", {}), ("convert", {}), ("filter", {"where": "x > 0"}),
                               ("groupby", {"aggs": {"n": "count()"}})):
                self.fails(op, params, bad, bad)

    def test_header_only_csv(self):
        summary, header, df = self.run_csv("convert", {}, self.header_csv)
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (0, 0))
        self.assertEqual(header, COLUMNS)
        self.assertEqual(len(df), 0)


# ---- empty inputs -------------------------------------------------------------------------------

class EmptyInputTest(WorkerTest):
    """A typed empty table (header-only CSV given types by convert, as Parquet): every op runs
    and writes a header-only output (or its documented one-row / per-bin result)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.empty = cls.data_path("empty.parquet")
        schema = {"id": "int64", "k": "string", "g": "int64", "i": "int64", "x": "double",
                  "y": "double", "s": "double", "c": "int64"}
        r = worker("run", "--op", "convert", "--params", json.dumps({"schema": schema}),
                   "--input", cls.header_csv, "--output", cls.empty, "--threads", THREADS)
        assert r.rc == 0, r

    def test_each_op_on_empty(self):
        cases = [
            ("noop", {}, COLUMNS),
            ("convert", {}, COLUMNS),
            ("filter", {"where": "x > 1"}, COLUMNS),
            ("select", {"columns": ["id"], "derive": {"z": "x * 2"}}, ["id", "z"]),
            ("clean", {"dropNull": "any", "dedupe": ["k"]}, COLUMNS),
            ("normalize", {"columns": ["x", "i"]}, COLUMNS),
            ("normalize", {"columns": ["x"], "method": "minmax"}, COLUMNS),
            ("groupby", {"keys": ["k"], "aggs": {"n": "count()", "sx": "sum(x)"}}, ["k", "n", "sx"]),
            ("sort", {"by": [{"column": "x", "desc": True}], "limit": 5}, COLUMNS),
        ]
        for op, params, header in cases:
            with self.subTest(op=op, params=params):
                summary, h, df = self.run_csv(op, params, self.empty)
                self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (0, 0))
                self.assertEqual(h, header)
                self.assertEqual(len(df), 0)

    def test_groupby_without_keys_on_empty(self):
        summary, h, df = self.run_csv("groupby", {"aggs": {"n": "count()", "nx": "count(x)",
                                                          "sx": "sum(x)", "si": "sum(i)",
                                                          "mx": "mean(x)", "lo": "min(i)"}},
                                      self.empty)
        self.assertEqual(h, ["n", "nx", "sx", "si", "mx", "lo"])
        self.assertEqual(df.values.tolist(), [["0", "0", None, None, None, None]])

    def test_histogram_on_empty(self):
        summary, h, df = self.run_csv("histogram", {"column": "x", "bins": 4}, self.empty)
        counts, edges = np.histogram(np.array([], dtype=float), 4)
        self.assertEqual(h, ["bin_lo", "bin_hi", "count"])
        self.assertEqual(floats(df["bin_lo"]).tolist(), edges[:-1].tolist())
        self.assertEqual(floats(df["bin_hi"]).tolist(), edges[1:].tolist())
        self.assertEqual(ints(df["count"]), counts.tolist())
        summary, h, df = self.run_csv("histogram", {"column": "i", "bins": 3, "min": -1, "max": 2},
                                      self.empty)
        self.assertEqual(ints(df["count"]), [0, 0, 0])

    def test_train_and_predict_on_empty(self):
        self.fails("train", {"model": "linear", "features": ["x"], "label": "y"}, self.empty,
                   output=self.out("m.json"))
        model = self.write("m.json", json.dumps({"kind": "logistic", "features": ["x", "y"],
                                                 "weights": [1.0, 2.0], "bias": 0.5}))
        summary, h, df = self.run_csv("predict", {}, [self.empty, model])
        self.assertEqual(h, COLUMNS + ["score", "label"])
        self.assertEqual(len(df), 0)


# ---- filter and the expression language -------------------------------------------------------

class FilterTest(WorkerTest):

    def expect_ids(self, where, mask):
        summary, header, df = self.run_csv("filter", {"where": where}, self.main_csv)
        self.assertEqual(header, COLUMNS)
        expected = [v for v, m in zip(self.df["id"], mask) if m]
        self.assertEqual(ints(df["id"]), expected, where)  # input order kept
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (N, len(expected)))
        return df

    def col(self, name):
        return list(self.df[name])

    def test_comparisons_with_nulls_drop_rows(self):
        x, k, i = floats(self.col("x")), self.col("k"), self.col("i")
        self.expect_ids("x > 50", [v > 50 for v in x])  # NaN > 50 is False
        self.expect_ids("x > 50 and k = 'a'", [a > 50 and b == "a" for a, b in zip(x, k)])
        # Kleene: null or true is true; null or false is null (dropped).
        self.expect_ids("x > 50 or k = 'a'", [a > 50 or b == "a" for a, b in zip(x, k)])
        # not(null) is null: rows with a null x go either way.
        self.expect_ids("not (x > 50)", [not np.isnan(a) and not a > 50 for a in x])
        self.expect_ids("x != 50", [not np.isnan(a) and a != 50 for a in x])
        self.expect_ids("is_null(x) or is_null(k)", [np.isnan(a) or b is None for a, b in zip(x, k)])
        self.expect_ids("not is_null(i) and i >= -10 and i <= 10",
                        [v is not None and -10 <= v <= 10 for v in i])
        self.expect_ids("k < 'c'", [v is not None and v < "c" for v in k])
        self.expect_ids("k = null", [False] * N)

    def test_arithmetic_edge_cases(self):
        x, s, i = floats(self.col("x")), floats(self.col("s")), self.col("i")
        # x / 0 is null, so is_null of it holds for every row.
        self.expect_ids("is_null(x / 0)", [True] * N)
        self.expect_ids("is_null(i / 0)", [True] * N)
        self.expect_ids("x / 0 > 0 or x / 0 <= 0", [False] * N)
        # log(0) and log(-1) are null, not errors.
        with np.errstate(all="ignore"):
            logs = np.where(s > 0, np.log(np.where(s > 0, s, 1.0)), np.nan)
        self.expect_ids("log(s) > 0", [v > 0 for v in logs])
        self.expect_ids("is_null(log(s))", [np.isnan(v) for v in logs])
        self.expect_ids("is_null(sqrt(s - 1))", [np.isnan(v) or v < 1 for v in s])
        # Integer % truncates like C: the sign of the dividend.
        self.expect_ids("i % 7 = -3", [v is not None and int(np.fmod(v, 7)) == -3 for v in i])
        self.expect_ids("i / 2 = 0.5", [v == 1 for v in i])  # / is always Double
        self.expect_ids("abs(i) * 2 + 1 > 1999", [v is not None and abs(v) * 2 + 1 > 1999 for v in i])
        self.expect_ids("exp(x) > 1e30", [v > math.log(1e30) for v in x])

    def test_params_errors(self):
        p = self.main_csv
        self.fails("filter", {}, p, "params.where", "required")
        self.fails("filter", {"where": 5}, p, "params.where", "string")
        self.fails("filter", {"where": "x > 1", "limit": 3}, p, "params.limit", "unknown parameter",
                   "where")
        self.fails("filter", {"where": "nope > 1"}, p, "params.where", "unknown column 'nope'")
        self.fails("filter", {"where": "x + 1"}, p, "params.where", "condition")
        self.fails("filter", {"where": "x > "}, p, "params.where")
        self.fails("filter", {"where": "x > 1)"}, p, "params.where")
        self.fails("filter", {"where": "x >= 1; drop table input"}, p, "params.where")

    def test_type_mismatch(self):
        p = self.main_csv
        self.fails("filter", {"where": "k > 5"}, p, "params.where")
        self.fails("filter", {"where": "k + 1 > 0"}, p, "params.where")
        self.fails("filter", {"where": "x and true"}, p, "params.where")
        self.fails("filter", {"where": "log(k) > 0"}, p, "params.where")
        self.fails("select", {"derive": {"z": "k * 2"}}, p, "params.derive.z")


# ---- select -------------------------------------------------------------------------------------

class SelectTest(WorkerTest):

    def test_columns_and_derive_in_order(self):
        # No fault here touches a column used twice: see test_fault_leaves_other_columns_alone.
        derive = {"z": "x * 2 + i", "r": "x / i", "q": "x / 0", "m": "i % 7", "b": "i * 2 + g",
                  "l": "log(s)", "e": "exp(y)", "sq": "sqrt(abs(y))", "a": "abs(i)",
                  "n": "is_null(x)", "t": "x > 50 or k = 'a'", "neg": "-i"}
        summary, header, df = self.run_csv("select", {"columns": ["id", "x"], "derive": derive},
                                           self.main_csv)
        self.assertEqual(header, ["id", "x"] + list(derive))
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (N, N))
        self.assertEqual(ints(df["id"]), list(self.df["id"]))
        x, y, s = floats(self.df["x"]), floats(self.df["y"]), floats(self.df["s"])
        i, g, k = list(self.df["i"]), list(self.df["g"]), list(self.df["k"])
        fi = floats(i)
        self.assert_floats(floats(df["x"]), x, "x")
        with np.errstate(all="ignore"):
            self.assert_floats(floats(df["z"]), x * 2 + fi, "x * 2 + i", scale=100)
            self.assert_floats(floats(df["r"]), np.where(fi == 0, np.nan, x / fi), "x / i")
            self.assert_floats(floats(df["q"]), np.full(N, np.nan), "x / 0")
            self.assert_floats(floats(df["l"]), np.where(s > 0, np.log(s), np.nan), "log(s)")
            self.assert_floats(floats(df["sq"]), np.sqrt(np.abs(y)), "sqrt(abs(y))")
            self.assert_floats(floats(df["e"]), np.exp(y), "exp(y)")
        self.assertEqual(ints(df["m"]), [None if v is None else int(np.fmod(v, 7)) for v in i])
        self.assertEqual(ints(df["b"]), [None if a is None or b is None else a * 2 + b
                                         for a, b in zip(i, g)])
        self.assertEqual(ints(df["a"]), [None if v is None else abs(v) for v in i])
        self.assertEqual(ints(df["neg"]), [None if v is None else -v for v in i])
        self.assertEqual(bools(df["n"]), [bool(np.isnan(v)) for v in x])

        def kleene(a, b):
            left = None if np.isnan(a) else bool(a > 50)
            right = None if b is None else b == "a"
            if left is True or right is True:
                return True
            if left is None or right is None:
                return None
            return False
        self.assertEqual(bools(df["t"]), [kleene(a, b) for a, b in zip(x, k)])

    FAULTS = ("y,a,t\n-0.5,-9223372036854775808,p\n0.5,3,q\n,,r\n"
              "-0.001,-9223372036854775808,s\n0.0,4,t\n")

    def test_fault_leaves_other_columns_alone(self):
        """A fault (log of a negative, sqrt of a negative, int64 overflow) makes only that value
        null (expr/README.md): the column it read keeps its values (a column with nulls is where
        DuckDB 1.4.4's try() wrote its nulls into the input column as well)."""
        path = self.write("f.csv", self.FAULTS)
        summary, header, df = self.run_csv(
            "select", {"derive": {"sq": "sqrt(y)", "l": "log(y)", "ab": "abs(a)", "n": "-a",
                                  "p": "a * 2"}}, path)
        self.assertEqual(df.values.tolist(), [
            ["-0.5", "-9223372036854775808", "p", None, None, None, None, None],
            ["0.5", "3", "q", repr(math.sqrt(0.5)), repr(math.log(0.5)), "3", "-3", "6"],
            [None, None, "r", None, None, None, None, None],
            ["-0.001", "-9223372036854775808", "s", None, None, None, None, None],
            ["0.0", "4", "t", "0.0", None, "4", "-4", "8"]])

    def test_fault_in_filter_leaves_rows_alone(self):
        path = self.write("f.csv", self.FAULTS)
        summary, header, df = self.run_csv("filter", {"where": "is_null(log(y))"}, path)
        self.assertEqual(df.values.tolist(), [["-0.5", "-9223372036854775808", "p"],
                                              [None, None, "r"],
                                              ["-0.001", "-9223372036854775808", "s"],
                                              ["0.0", "4", "t"]])

    def test_derive_replaces_column_without_columns(self):
        derive = {"new2": "i + 1", "x": "x * 2", "new1": "'tag'"}
        summary, header, df = self.run_csv("select", {"derive": derive}, self.main_csv)
        self.assertEqual(header, COLUMNS + ["new2", "new1"])
        self.assert_floats(floats(df["x"]), floats(self.df["x"]) * 2, "x * 2")
        self.assertEqual(ints(df["new2"]), [None if v is None else v + 1 for v in self.df["i"]])
        self.assertEqual(strs(df["new1"]), ["tag"] * N)
        self.assertEqual(strs(df["k"]), list(self.df["k"]))
        # Only columns: a projection in the order given.
        summary, header, df = self.run_csv("select", {"columns": ["x", "id"]}, self.main_csv)
        self.assertEqual(header, ["x", "id"])
        self.assertEqual(ints(df["id"]), list(self.df["id"]))

    def test_params_errors(self):
        p = self.main_csv
        cols = "columns: " + ", ".join(COLUMNS)
        self.fails("select", {"columns": ["id", "nope"]}, p, "params.columns[1]", "unknown column",
                   "'nope'", cols)
        self.fails("select", {"columns": "id"}, p, "params.columns", "array")
        self.fails("select", {"columns": ["id", 3]}, p, "params.columns[1]", "string")
        self.fails("select", {"columns": ["id", "id"]}, p, "params.columns[1]", "twice")
        self.fails("select", {"columns": []}, p, "params", "no column")
        self.fails("select", {"derive": ["x"]}, p, "params.derive", "object")
        self.fails("select", {"derive": {"z": 5}}, p, "params.derive.z", "string")
        self.fails("select", {"columns": ["x"], "derive": {"x": "x + 1"}}, p, "params.derive.x",
                   "params.columns")
        self.fails("select", {"derive": {"z": "nope + 1"}}, p, "params.derive.z", "nope")
        self.fails("select", {"column": ["x"]}, p, "params.column", "unknown parameter")


# ---- clean --------------------------------------------------------------------------------------

class CleanTest(WorkerTest):

    def expected(self, df, drop=None, fill=None, dedupe=None):
        e = df
        if drop is not None:
            e = e.dropna(subset=list(e.columns) if drop == "any" else drop)
        if fill:
            e = e.copy()
            for c, v in fill.items():
                e[c] = [v if a is None else a for a in e[c]]
        if dedupe is not None:
            e = e.drop_duplicates(subset=None if dedupe is True else dedupe, keep="first")
        return e

    def check(self, params, drop=None, fill=None, dedupe=None, source=None):
        source = self.df if source is None else source
        path = self.main_csv
        if source is not self.df:
            path = self.out("in.csv")
            write_csv(path, source)
        summary, header, df = self.run_csv("clean", params, path)
        e = self.expected(source, drop, fill, dedupe)
        self.assertEqual(header, list(source.columns))
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (len(source), len(e)))
        for c in source.columns:
            if c in ("k",):
                self.assertEqual(strs(df[c]), list(e[c]), c)
            elif c in ("x", "y", "s"):
                self.assert_floats(floats(df[c]), floats(e[c]), c)
            else:
                self.assertEqual(ints(df[c]), list(e[c]), c)

    def test_drop_fill_dedupe_in_order(self):
        # Drop first (x), then fill (i, k, y), then dedupe on (k, g): the filled values take part
        # in dedupe and nulls in keys are equal; the first occurrence in input order stays.
        self.check({"dropNull": ["x"], "fillNull": {"i": 0, "k": "zz", "y": -1.5},
                    "dedupe": ["k", "g"]},
                   drop=["x"], fill={"i": 0, "k": "zz", "y": -1.5}, dedupe=["k", "g"])
        # fillNull cannot rescue a row that dropNull drops.
        self.check({"dropNull": ["k"], "fillNull": {"k": "zz"}}, drop=["k"], fill={"k": "zz"})
        self.check({"dropNull": "any"}, drop="any")
        self.check({"dedupe": ["k"]}, dedupe=["k"])
        self.check({"fillNull": {"x": 0, "g": 3}}, fill={"x": 0.0, "g": 3})

    def test_dedupe_whole_rows(self):
        rng = np.random.default_rng(7)
        small = self.df[["k", "g", "c"]].iloc[rng.integers(0, N, 2000)].reset_index(drop=True)
        self.check({"dedupe": True}, dedupe=True, source=small)

    def test_dedupe_keeps_input_order_at_scale(self):
        """Enough rows for DuckDB to scan in parallel (several row groups, 2 threads)."""
        n = 400_000
        rng = np.random.default_rng(11)
        path = self.out("big.csv")
        keys = rng.integers(0, 50_000, n)
        with open(path, "w") as f:
            f.write("row,key\n")
            f.write("".join("%d,%d\n" % (r, kk) for r, kk in enumerate(keys.tolist())))
        summary, header, df = self.run_csv("clean", {"dedupe": ["key"]}, path)
        _, first = np.unique(keys, return_index=True)
        expected = np.sort(first)
        self.assertEqual(summary["rowsOut"], len(expected))
        rows = np.array(ints(df["row"]))
        self.assertTrue(np.array_equal(rows, expected), "first occurrences, in input order")

    def parquet_of(self, name, header, rows):
        """A Parquet file (several row groups once rows pass 122,880) made by convert."""
        path = self.out(name + ".csv")
        with open(path, "w") as f:
            f.write(",".join(header) + "\n")
            f.write("".join(",".join(str(v) for v in row) + "\n" for row in rows))
        _, parquet = self.run_ok("convert", {}, path, self.out(name + ".parquet"))
        return parquet

    def test_dedupe_parquet_numbers_rows_file_by_file(self):
        """Parquet rows are numbered from each file's index and row number (read in parallel):
        across two files of three row groups each, the first occurrence stays, in --input
        order, which here is not the files' name order."""
        n = 300_000
        rng = np.random.default_rng(13)
        keys = rng.integers(0, 40_000, 2 * n)
        a = self.parquet_of("a", ["row", "key"], zip(range(n, 2 * n), keys[n:].tolist()))
        b = self.parquet_of("b", ["row", "key"], zip(range(n), keys[:n].tolist()))
        # Input order is b, then a: rows 0 .. 2n - 1, keys in `keys` order.
        summary, header, df = self.run_csv("clean", {"dedupe": ["key"]}, [b, a])
        _, first = np.unique(keys, return_index=True)
        self.assertEqual(summary["rowsIn"], 2 * n)
        self.assertEqual(ints(df["row"]), np.sort(first).tolist(), "first occurrences, in order")

    def test_dedupe_parquet_with_a_column_named_file_row_number(self):
        """A file's own file_row_number column hides DuckDB's virtual one; rows are still
        numbered in input order, not by that column (here in reverse order)."""
        n = 1000
        keys = [i % 7 for i in range(n)]
        p = self.parquet_of("frn", ["file_row_number", "key"], zip(range(n, 0, -1), keys))
        summary, header, df = self.run_csv("clean", {"dedupe": ["key"]}, p)
        self.assertEqual(header, ["file_row_number", "key"])
        self.assertEqual(ints(df["file_row_number"]), list(range(n, n - 7, -1)))
        self.assertEqual(ints(df["key"]), list(range(7)))

    def test_parquet_input_gives_what_csv_input_gives(self):
        """Dedupe numbers Parquet rows another way than CSV rows; with dropNull and fillNull
        around it the output must still be the CSV path's (which the tests above check against
        pandas), row for row."""
        _, parquet = self.run_ok("convert", {}, self.main_csv, self.out("main.parquet"))
        for params in ({"dedupe": ["k", "g"]}, {"dedupe": True},
                       {"dropNull": ["x"], "fillNull": {"i": 0, "k": "zz"}, "dedupe": ["k", "g"]}):
            s_csv, h_csv, from_csv = self.run_csv("clean", params, self.main_csv)
            s_pq, h_pq, from_parquet = self.run_csv("clean", params, parquet)
            self.assertEqual((s_pq["rowsIn"], s_pq["rowsOut"]), (s_csv["rowsIn"], s_csv["rowsOut"]))
            self.assertEqual(h_pq, h_csv, params)
            self.assertTrue(from_parquet.equals(from_csv), params)

    def test_dedupe_with_a_column_named_like_the_row_number(self):
        rows = [(i % 3, i) for i in range(10)]
        p = self.parquet_of("ar", ["aidi_row", "v"], rows)
        summary, header, df = self.run_csv("clean", {"dedupe": ["aidi_row"]}, p)
        self.assertEqual(header, ["aidi_row", "v"])
        self.assertEqual((ints(df["aidi_row"]), ints(df["v"])), ([0, 1, 2], [0, 1, 2]))

    # -- CSV read in pieces (cuda-workers/ops/csv_pieces.h) --

    def in_pieces(self, op, params, inputs, threads, output=None):
        """Runs op with CSV inputs cut into pieces however small (the worker cuts files from
        16 MiB up) and `threads` DuckDB threads; returns the Result after checking that the
        files were cut."""
        output = output or self.out("out.csv")
        args = self.args(op, params, inputs, output)
        args[args.index("--threads") + 1] = str(threads)
        with mock.patch.dict(os.environ, {"AIDI_WORKER_MIN_PIECE_BYTES": "1"}):
            r = worker(*args)
        self.assertIn("numbering CSV rows in pieces", r.stderr, r)
        return r

    def test_dedupe_csv_in_pieces(self):
        """Each piece of a CSV is numbered on its own and the pieces are scanned at once; with
        quoted fields that hold newlines, commas and quotes, \\r\\n line ends and two files, the
        output is pandas' row for row, however the files are cut."""
        rng = np.random.default_rng(17)
        texts = ["plain", "a, comma", "two\nlines", 'say ""hi""', "3\r\nline\nbreaks", "x"]

        def table(first, n):
            return pd.DataFrame({"row": range(first, first + n),
                                 "key": [int(v) for v in rng.integers(0, 60, n)],
                                 "text": [texts[v] for v in rng.integers(0, len(texts), n)]},
                                dtype=object)

        def csv_text(df, newline):
            lines = ["row,key,text"]
            for r in df.itertuples(index=False):
                quoted = r.text != "plain" and r.text != "x"
                lines.append("%d,%d,%s" % (r.row, r.key, '"%s"' % r.text if quoted else r.text))
            return newline.join(lines) + newline

        a, b = table(0, 700), table(700, 500)
        pa = self.write("a.csv", "")
        with open(pa, "w", newline="") as f:
            f.write(csv_text(a, "\r\n"))
        pb = self.write("b.csv", "")
        with open(pb, "w", newline="") as f:
            f.write(csv_text(b, "\n"))
        both = pd.concat([a, b], ignore_index=True)
        both["text"] = [t.replace('""', '"') for t in both["text"]]
        for keys in (["key"], ["key", "text"]):
            expected = both.drop_duplicates(subset=keys, keep="first")
            for threads in (2, 3, 7):
                r = self.in_pieces("clean", {"dedupe": keys}, [pa, pb], threads)
                self.assertEqual(r.rc, 0, r)
                summary = self.check_summary(r, "clean")
                self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (1200, len(expected)))
                header, df = read_csv(self.out("out.csv"))
                self.assertEqual(header, ["row", "key", "text"])
                self.assertEqual(ints(df["row"]), list(expected["row"]), (keys, threads))
                self.assertEqual(strs(df["text"]), list(expected["text"]), (keys, threads))

    def test_dedupe_csv_without_a_place_for_pipes(self):
        """Where no pipe can be made ($TMPDIR not a directory), files are read whole."""
        path = self.write("in.csv", "k,v\n" + "".join("%d,%d\n" % (i % 5, i) for i in range(50)))
        args = self.args("clean", {"dedupe": ["k"]}, path, self.out("out.csv"))
        with mock.patch.dict(os.environ, {"AIDI_WORKER_MIN_PIECE_BYTES": "1", "TMPDIR": path}):
            r = worker(*args)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("reading files whole", r.stderr)
        self.assertNotIn("numbering CSV rows in pieces", r.stderr)
        header, df = read_csv(self.out("out.csv"))
        self.assertEqual((ints(df["k"]), ints(df["v"])), ([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]))

    def test_pieces_against_whole_files_on_random_csv(self):
        """Seeded random CSV and TSV files (quoted fields with delimiters, quotes and line
        breaks, \\r\\n or \\n, a missing last line break, ragged rows, nulls, one or two
        files) through clean with dedupe, dropNull and fillNull: cut into pieces, the run gives
        the output, summary and error of the same run over whole files, byte for byte."""
        values = ['"a,b"', '"x\ny"', '"q""uote"', '"multi\nline\nvalue"', '""', "foo", "bar",
                  "0", "1", "2", "2024-01-02", ""]
        cut = 0
        for seed in range(25):
            rng = np.random.default_rng(1000 + seed)
            sep = "\t" if rng.random() < 0.25 else ","
            newline = "\r\n" if rng.random() < 0.5 else "\n"
            ncol = int(rng.integers(2, 5))

            def rows(n):
                return [sep.join(values[int(v)] for v in rng.integers(0, len(values), ncol))
                        for _ in range(n)]

            body = rows(int(rng.integers(5, 60)))
            if rng.random() < 0.3:
                body.insert(int(rng.integers(1, len(body))), sep.join(["9"] * (ncol + 2)))
            header = sep.join("c%d" % i for i in range(ncol))
            ext = "tsv" if sep == "\t" else "csv"
            inputs = [self.out("r%d.%s" % (seed, ext))]
            with open(inputs[0], "w", newline="") as f:
                f.write(newline.join([header] + body) + (newline if rng.random() < 0.8 else ""))
            if rng.random() < 0.3:
                inputs.append(self.out("r%d_b.%s" % (seed, ext)))
                with open(inputs[1], "w", newline="") as f:
                    f.write(newline.join([header] + rows(20)) + newline)
            params = {"dedupe": ["c0"] if rng.random() < 0.5 else ["c0", "c1"]}
            if rng.random() < 0.4:
                params["dropNull"] = ["c1"]
            if rng.random() < 0.4:
                params["fillNull"] = {"c0": "zz"}
            for threads in (2, 3):
                args = self.args("clean", params, inputs, self.out("whole.csv"))
                args[args.index("--threads") + 1] = str(threads)
                whole = worker(*args)
                args[args.index(self.out("whole.csv"))] = self.out("cut.csv")
                with mock.patch.dict(os.environ, {"AIDI_WORKER_MIN_PIECE_BYTES": "1"}):
                    pieces = worker(*args)
                cut += "numbering CSV rows in pieces" in pieces.stderr
                what = (seed, threads, params)
                self.assertEqual(pieces.rc, whole.rc, (what, whole, pieces))
                if whole.rc == 0:
                    drop = lambda line: re.sub(r'"seconds":[0-9.e-]+', "", line)  # noqa: E731
                    self.assertEqual(drop(pieces.last), drop(whole.last), what)
                    with open(self.out("whole.csv"), "rb") as a, open(self.out("cut.csv"), "rb") as b:
                        self.assertEqual(b.read(), a.read(), what)
                else:
                    self.assertEqual(pieces.stderr.splitlines()[-1], whole.stderr.splitlines()[-1],
                                     what)
        self.assertGreater(cut, 40, "most runs cut their files")

    def test_bad_row_in_a_piece_is_named_by_file_and_line(self):
        """A ragged row in a later piece is reported as the whole-file scan reports it: its file,
        its line in that file (after rows whose quoted fields span lines), the row."""
        rows = ['%d,"note\nof %d"' % (i, i) for i in range(300)]
        rows.insert(250, "250,a,b")
        path = self.write("ragged.csv", "id,note\n" + "\n".join(rows) + "\n")
        whole = self.fails("clean", {"dedupe": ["id"]}, path, "ragged.csv: line ", "250,a,b")
        for threads in (2, 4):
            before = dir_state(self.out_dir)
            r = self.in_pieces("clean", {"dedupe": ["id"]}, path, threads)
            self.assertNotEqual(r.rc, 0, r)
            self.assertEqual(r.stderr.rstrip("\n").splitlines()[-1], "aidi-worker: " + whole)
            self.assertEqual(dir_state(self.out_dir), before, "no output from a failed run")
        # DuckDB counts a row whose quoted field spans two lines as one: the header, 250 rows.
        self.assertIn("ragged.csv: line 252:", whole)

    def test_params_errors(self):
        p = self.main_csv
        cols = "columns: " + ", ".join(COLUMNS)
        self.fails("clean", {}, p, "params", "does nothing")
        self.fails("clean", {"dropNul": ["x"]}, p, "params.dropNul", "unknown parameter")
        self.fails("clean", {"dropNull": ["nope"]}, p, "params.dropNull[0]", "'nope'", cols)
        self.fails("clean", {"dropNull": "all"}, p, "params.dropNull", "any")
        self.fails("clean", {"dropNull": 5}, p, "params.dropNull")
        self.fails("clean", {"fillNull": {"nope": 1}}, p, "params.fillNull.nope", "'nope'", cols)
        self.fails("clean", {"fillNull": ["x"]}, p, "params.fillNull", "object")
        self.fails("clean", {"fillNull": {"i": "zero"}}, p, "params.fillNull.i", "number")
        self.fails("clean", {"fillNull": {"i": 1.5}}, p, "params.fillNull.i", "integer")
        self.fails("clean", {"fillNull": {"k": 5}}, p, "params.fillNull.k", "string")
        self.fails("clean", {"dedupe": ["nope"]}, p, "params.dedupe[0]", "'nope'", cols)
        self.fails("clean", {"dedupe": []}, p, "params.dedupe", "no column")


# ---- normalize ----------------------------------------------------------------------------------

class NormalizeTest(WorkerTest):

    def test_zscore_population_std(self):
        summary, header, df = self.run_csv("normalize", {"columns": ["x", "i", "c"]}, self.main_csv)
        self.assertEqual(header, COLUMNS)
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (N, N))
        for c in ("x", "i"):
            v = floats(self.df[c])
            present = v[~np.isnan(v)]
            expected = (v - present.mean()) / present.std()  # numpy: ddof=0
            self.assert_floats(floats(df[c]), expected, c, scale=1.0)
        # std 0: 0.0 where there is a value, null stays null.
        self.assertEqual(strs(df["c"]), [None if v is None else "0.0" for v in self.df["c"]])
        # Other columns untouched, order kept.
        self.assertEqual(ints(df["id"]), list(self.df["id"]))
        self.assertEqual(strs(df["k"]), list(self.df["k"]))
        self.assert_floats(floats(df["y"]), floats(self.df["y"]), "y")

    def test_minmax(self):
        summary, header, df = self.run_csv("normalize", {"columns": ["y", "g", "c"],
                                                         "method": "minmax"}, self.main_csv)
        for c in ("y", "g"):
            v = floats(self.df[c])
            lo, hi = np.nanmin(v), np.nanmax(v)
            self.assert_floats(floats(df[c]), (v - lo) / (hi - lo), c, scale=1.0)
        self.assertEqual(strs(df["c"]), [None if v is None else "0.0" for v in self.df["c"]])

    def test_all_null_column(self):
        path = self.write("nulls.csv", "a,b\n1,\n2,\n3,\n")
        # An all-empty CSV column is sniffed as VARCHAR: give it a type through Parquet.
        _, parquet = self.run_ok("convert", {"schema": {"b": "double"}}, path,
                                 self.out("nulls.parquet"))
        summary, header, df = self.run_csv("normalize", {"columns": ["a", "b"]}, parquet)
        self.assert_floats(floats(df["a"]), [-math.sqrt(1.5), 0.0, math.sqrt(1.5)], "a")
        self.assertEqual(list(df["b"]), [None, None, None])

    def test_params_errors(self):
        p = self.main_csv
        cols = "columns: " + ", ".join(COLUMNS)
        self.fails("normalize", {}, p, "params.columns", "required")
        self.fails("normalize", {"columns": []}, p, "params.columns", "no column")
        self.fails("normalize", {"columns": ["nope"]}, p, "params.columns[0]", "'nope'", cols)
        self.fails("normalize", {"columns": ["k"]}, p, "params.columns[0]", "'k'", "not a number")
        self.fails("normalize", {"columns": [1]}, p, "params.columns[0]", "string")
        self.fails("normalize", {"columns": ["x"], "method": "robust"}, p, "params.method", "robust")
        self.fails("normalize", {"columns": ["x"], "method": 3}, p, "params.method", "string")
        self.fails("normalize", {"columns": ["x"], "ddof": 1}, p, "params.ddof", "unknown parameter")


# ---- groupby ------------------------------------------------------------------------------------

class GroupByTest(WorkerTest):

    def expected_groups(self, df, keys, aggs):
        groups = {}
        for row in df.to_dict("records"):
            groups.setdefault(tuple(row[k] for k in keys), []).append(row)
        rows = []
        for key, members in groups.items():
            out = dict(zip(keys, key))
            for name, (fn, col) in aggs.items():
                values = [m[col] for m in members if m[col] is not None] if col else members
                if fn == "count":
                    out[name] = len(values)
                elif not values:
                    out[name] = None
                elif fn == "sum":
                    out[name] = sum(values) if isinstance(values[0], int) else \
                        float(np.sum(np.array(values, dtype=float)))
                elif fn == "mean":
                    out[name] = float(np.mean(np.array(values, dtype=float)))
                elif fn == "min":
                    out[name] = min(values)
                else:
                    out[name] = max(values)
            rows.append(out)
        return sort_rows(rows, [(k, False) for k in keys])

    def test_aggregates_with_null_keys_last(self):
        aggs = {"sx": "sum(x)", "mx": "mean(x)", "lo": "min(i)", "hi": "max(i)", "n": "count()",
                "nx": "count(x)", "si": "sum(i)", "hx": "max(x)", "mi": "mean(i)", "lk": "min(k)"}
        spec = {"sx": ("sum", "x"), "mx": ("mean", "x"), "lo": ("min", "i"), "hi": ("max", "i"),
                "n": ("count", None), "nx": ("count", "x"), "si": ("sum", "i"),
                "hx": ("max", "x"), "mi": ("mean", "i"), "lk": ("min", "k")}
        summary, header, df = self.run_csv("groupby", {"keys": ["k", "g"], "aggs": aggs},
                                           self.main_csv)
        expected = self.expected_groups(self.df, ["k", "g"], spec)
        self.assertEqual(header, ["k", "g"] + list(aggs))
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (N, len(expected)))
        self.assertEqual(len(expected), 5 * 9)  # 4 strings + null, 8 ints + null
        self.assertEqual(strs(df["k"]), [r["k"] for r in expected])  # nulls last
        self.assertEqual(ints(df["g"]), [r["g"] for r in expected])
        for c in ("lo", "hi", "n", "nx", "si"):
            self.assertEqual(ints(df[c]), [r[c] for r in expected], c)
        for c in ("sx", "mx", "hx", "mi"):
            self.assert_floats(floats(df[c]), floats([r[c] for r in expected]), c)
        self.assertEqual(strs(df["lk"]), [r["lk"] for r in expected])

    def test_group_without_values_and_no_keys(self):
        path = self.write("g.csv", "k,v,w\na,1,1.5\na,,2.5\nb,,\nb,,\n,3,\n,4,0.5\n")
        summary, header, df = self.run_csv(
            "groupby", {"keys": ["k"], "aggs": {"s": "sum(v)", "m": "mean(w)", "n": "count()",
                                                "nv": "count(v)", "lo": "min(w)"}}, path)
        self.assertEqual(df.values.tolist(), [["a", "1", "2.0", "2", "1", "1.5"],
                                              ["b", None, None, "2", "0", None],
                                              [None, "7", "0.5", "2", "2", "0.5"]])
        summary, header, df = self.run_csv("groupby", {"aggs": {"n": "count()", "s": "sum(i)",
                                                                "m": "mean(x)", "nk": "count(k)"}},
                                           self.main_csv)
        self.assertEqual(summary["rowsOut"], 1)
        i = [v for v in self.df["i"] if v is not None]
        self.assertEqual(ints(df["n"]), [N])
        self.assertEqual(ints(df["s"]), [sum(i)])
        self.assertEqual(ints(df["nk"]), [sum(v is not None for v in self.df["k"])])
        self.assert_floats(floats(df["m"]), [np.nanmean(floats(self.df["x"]))], "mean(x)")

    def test_integer_sum_overflow_fails(self):
        path = self.write("big.csv", "k,v\na,9000000000000000000\na,9000000000000000000\n")
        self.fails("groupby", {"keys": ["k"], "aggs": {"s": "sum(v)"}}, path)

    def test_params_errors(self):
        p = self.main_csv
        cols = "columns: " + ", ".join(COLUMNS)
        self.fails("groupby", {"keys": ["k"]}, p, "params.aggs")
        self.fails("groupby", {"keys": ["k"], "aggs": {}}, p, "params.aggs")
        self.fails("groupby", {"keys": "k", "aggs": {"n": "count()"}}, p, "params.keys", "array")
        self.fails("groupby", {"keys": ["nope"], "aggs": {"n": "count()"}}, p, "params.keys[0]",
                   "'nope'", cols)
        self.fails("groupby", {"keys": ["k"], "aggs": {"s": "sum(nope)"}}, p, "params.aggs.s",
                   "'nope'", cols)
        self.fails("groupby", {"keys": ["k"], "aggs": {"s": "median(x)"}}, p, "params.aggs.s",
                   "median(x)")
        self.fails("groupby", {"keys": ["k"], "aggs": {"s": "sum()"}}, p, "params.aggs.s", "column")
        self.fails("groupby", {"keys": ["k"], "aggs": {"s": "sum(k)"}}, p, "params.aggs.s",
                   "not a number")
        self.fails("groupby", {"keys": ["k"], "aggs": {"s": 5}}, p, "params.aggs.s", "string")
        self.fails("groupby", {"keys": ["k"], "aggs": {"k": "count()"}}, p, "params.aggs.k", "key")
        self.fails("groupby", {"keys": ["k"], "aggs": {"n": "count()"}, "having": "n > 1"}, p,
                   "params.having", "unknown parameter")


# ---- sort ---------------------------------------------------------------------------------------

class SortTest(WorkerTest):

    def test_desc_nulls_last(self):
        for desc in (True, False):
            summary, header, df = self.run_csv("sort", {"by": [{"column": "x", "desc": desc}]},
                                               self.main_csv)
            self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (N, N))
            expected = null_last(list(floats(self.df["x"])), desc)
            self.assert_floats(floats(df["x"]), floats(expected), "x desc=%s" % desc)
            self.assertEqual(sorted(ints(df["id"])), list(range(N)))
            # Rows stay whole: x belongs to its id.
            by_id = dict(zip(self.df["id"], floats(self.df["x"])))
            self.assert_floats(floats(df["x"]), [by_id[j] for j in ints(df["id"])], "rows whole")

    def test_several_keys(self):
        keys = [("k", False), ("i", True), ("id", False)]
        by = [{"column": "k"}, {"column": "i", "desc": True}, "id"]
        summary, header, df = self.run_csv("sort", {"by": by}, self.main_csv)
        expected = sort_rows(self.df.to_dict("records"), keys)
        self.assertEqual(ints(df["id"]), [r["id"] for r in expected])
        self.assertEqual(ints(df["i"]), [r["i"] for r in expected])
        self.assertEqual(strs(df["k"]), [r["k"] for r in expected])
        # desc on strings, nulls still last.
        summary, header, df = self.run_csv("sort", {"by": [{"column": "k", "desc": True}, "id"]},
                                           self.main_csv)
        expected = sort_rows(self.df.to_dict("records"), [("k", True), ("id", False)])
        self.assertEqual(ints(df["id"]), [r["id"] for r in expected])

    def test_limit_top_k(self):
        for desc in (True, False):
            summary, header, df = self.run_csv(
                "sort", {"by": [{"column": "x", "desc": desc}], "limit": 25}, self.main_csv)
            self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (N, 25))
            rows = sort_rows(self.df.to_dict("records"), [("x", desc)])[:25]
            self.assertEqual(ints(df["id"]), [r["id"] for r in rows])  # x values are unique
        # Nulls last even when the limit reaches them.
        nulls = sum(v is None for v in self.df["x"])
        summary, header, df = self.run_csv("sort", {"by": [{"column": "x", "desc": True}],
                                                    "limit": N - nulls + 3}, self.main_csv)
        self.assertEqual(list(df["x"])[-3:], [None] * 3)
        self.assertNotIn(None, list(df["x"])[:-3])
        summary, header, df = self.run_csv("sort", {"by": ["id"], "limit": 0}, self.main_csv)
        self.assertEqual((summary["rowsOut"], len(df), header), (0, 0, COLUMNS))
        summary, header, df = self.run_csv("sort", {"by": ["id"], "limit": 10 * N}, self.main_csv)
        self.assertEqual(ints(df["id"]), list(range(N)))

    def test_params_errors(self):
        p = self.main_csv
        cols = "columns: " + ", ".join(COLUMNS)
        self.fails("sort", {}, p, "params.by")
        self.fails("sort", {"by": []}, p, "params.by", "non-empty")
        self.fails("sort", {"by": "x"}, p, "params.by")
        self.fails("sort", {"by": [{"column": "nope"}]}, p, "params.by[0]", "'nope'", cols)
        self.fails("sort", {"by": ["id", "nope"]}, p, "params.by[1]", "'nope'", cols)
        self.fails("sort", {"by": [{"column": "x", "desc": "yes"}]}, p, "params.by[0].desc",
                   "true or false")
        self.fails("sort", {"by": [{"column": "x", "order": "desc"}]}, p, "params.by[0].order",
                   "unknown parameter")
        self.fails("sort", {"by": [{"desc": True}]}, p, "params.by[0].column", "required")
        self.fails("sort", {"by": [5]}, p, "params.by[0]")
        self.fails("sort", {"by": ["x"], "limit": -1}, p, "params.limit", ">= 0")
        self.fails("sort", {"by": ["x"], "limit": 1.5}, p, "params.limit", "integer")
        self.fails("sort", {"by": ["x"], "limit": "10"}, p, "params.limit", "integer")
        self.fails("sort", {"by": ["x"], "top": 3}, p, "params.top", "unknown parameter")


# ---- histogram ----------------------------------------------------------------------------------

class HistogramTest(WorkerTest):

    def check(self, values, params, np_range=None, column="v", path=None):
        """values: floats (NaN for null) or ints (None for null) in one column `v`."""
        if path is None:
            path = self.out("h.csv")
            write_csv(path, pd.DataFrame({column: values}, dtype=object))
        summary, header, df = self.run_csv("histogram", params, path)
        present = np.array([float(v) for v in values
                            if v is not None and not (isinstance(v, float) and math.isnan(v))])
        counts, edges = np.histogram(present, params.get("bins", 10), range=np_range)
        self.assertEqual(header, ["bin_lo", "bin_hi", "count"])
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (len(values), len(counts)))
        self.assertEqual(ints(df["count"]), counts.tolist(), params)
        self.assertEqual(floats(df["bin_lo"]).tolist(), edges[:-1].tolist(), params)
        self.assertEqual(floats(df["bin_hi"]).tolist(), edges[1:].tolist(), params)
        return counts

    def test_equals_numpy_with_edges_and_max(self):
        rng = np.random.default_rng(3)
        lo, hi, bins = -20.0, 37.0, 13
        edges = np.linspace(lo, hi, bins + 1)
        values = list(rng.normal(5, 15, 3000)) + list(edges) * 3 + [lo, hi, hi]
        values += [float(np.nextafter(e, -np.inf)) for e in edges] + \
                  [float(np.nextafter(e, np.inf)) for e in edges]
        values += [lo - 1, hi + 1, -1e9, 1e9]  # outside: not counted
        values = [float(v) for v in values]
        mask = rng.random(len(values)) < 0.05
        values = [None if m else v for v, m in zip(values, mask)]
        counts = self.check(values, {"column": "v", "bins": bins, "min": lo, "max": hi}, (lo, hi))
        self.assertGreater(counts[-1], 0)
        # Without min/max: the data's own range (min and max of the values).
        self.check(values, {"column": "v", "bins": 7})
        self.check(values, {"column": "v"})  # bins default to 10

    def test_awkward_ranges(self):
        """Ranges whose edges are not exact in binary: numpy's index corrections decide."""
        for lo, hi, bins in ((0.1, 0.7, 3), (0.0, 1.0, 10), (-0.3, 0.9, 7), (1e-3, 1e-3 + 1e-9, 4),
                             (3.0, 1e6, 999)):
            edges = np.linspace(lo, hi, bins + 1)
            values = []
            for e in edges:
                values += [float(e), float(np.nextafter(e, -np.inf)), float(np.nextafter(e, np.inf))]
            values += [float(v) for v in np.linspace(lo, hi, 200)]
            with self.subTest(lo=lo, hi=hi, bins=bins):
                self.check(values, {"column": "v", "bins": bins, "min": lo, "max": hi}, (lo, hi))

    def test_integer_column(self):
        rng = np.random.default_rng(5)
        values = with_nulls(rng, [int(v) for v in rng.integers(-50, 51, 2000)])
        self.check(values, {"column": "v", "bins": 9})
        self.check(values, {"column": "v", "bins": 10, "min": -50, "max": 50}, (-50, 50))
        self.check(values, {"column": "v", "bins": 4, "min": 0.5, "max": 10.25}, (0.5, 10.25))
        self.check([4, 4, None, 4], {"column": "v", "bins": 3})  # one value: [v - .5, v + .5]

    def test_main_table(self):
        x = list(floats(self.df["x"]))
        self.check(x, {"column": "x", "bins": 20}, path=self.main_csv, column="x")
        self.check(x, {"column": "x", "bins": 5, "min": 0, "max": 100}, (0, 100),
                   path=self.main_csv, column="x")

    def test_params_errors(self):
        p = self.main_csv
        cols = "columns: " + ", ".join(COLUMNS)
        self.fails("histogram", {}, p, "params.column", "required")
        self.fails("histogram", {"column": "nope"}, p, "params.column", "'nope'", cols)
        self.fails("histogram", {"column": "k"}, p, "params.column", "not a number")
        self.fails("histogram", {"column": "x", "bins": 0}, p, "params.bins")
        self.fails("histogram", {"column": "x", "bins": "10"}, p, "params.bins", "integer")
        self.fails("histogram", {"column": "x", "bins": 2.5}, p, "params.bins", "integer")
        self.fails("histogram", {"column": "x", "min": "a"}, p, "params.min", "number")
        self.fails("histogram", {"column": "x", "min": 5, "max": 5}, p, "params.max", "greater")
        self.fails("histogram", {"column": "x", "min": 5, "max": 1}, p, "params.max")
        self.fails("histogram", {"column": "x", "bin": 3}, p, "params.bin", "unknown parameter")


# ---- train and predict ---------------------------------------------------------------------------

class TrainPredictTest(WorkerTest):

    FEATURES = ["f1", "f2", "f3"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rng = np.random.default_rng(99)
        n = 2000
        x = rng.normal(0.0, 1.0, (n, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
        z = x @ np.array([2.0, -1.0, 1.5]) + 0.3
        cls.logit_label = (z + rng.normal(0, 0.3, n) > 0).astype(int)
        cls.logit = pd.DataFrame({"f1": [float(v) for v in x[:, 0]],
                                  "f2": [float(v) for v in x[:, 1]],
                                  "f3": [float(v) for v in x[:, 2]],
                                  "y": [int(v) for v in cls.logit_label],
                                  "name": ["r%d" % j for j in range(n)]}, dtype=object)
        # A few rows with a null feature or label: left out of the fit, counted.
        for j in (5, 50, 500):
            cls.logit.at[j, "f2"] = None
        cls.logit.at[77, "y"] = None
        cls.logit_csv = cls.data_path("logit.csv")
        write_csv(cls.logit_csv, cls.logit)

        cls.true_w, cls.true_b = np.array([3.0, -2.0, 0.5]), 1.5
        yl = x @ cls.true_w + cls.true_b + rng.normal(0, 1e-3, n)
        cls.lin = pd.DataFrame({"f1": [float(v) for v in x[:, 0]],
                                "f2": [float(v) for v in x[:, 1]],
                                "f3": [float(v) for v in x[:, 2]],
                                "target": [float(v) for v in yl],
                                "score": [1] * n}, dtype=object)  # replaced by predict
        cls.lin_csv = cls.data_path("lin.csv")
        write_csv(cls.lin_csv, cls.lin)

    def train(self, params, data, name="model.json"):
        summary, path = self.run_ok("train", params, data, self.out(name))
        with open(path) as f:
            return summary, json.load(f), path

    def hand_scores(self, model, df):
        out = []
        for row in df.to_dict("records"):
            xs = [row[f] for f in model["features"]]
            if any(v is None for v in xs):
                out.append(np.nan)
                continue
            z = model["bias"]
            for w, v in zip(model["weights"], xs):
                z = z + w * float(v)
            out.append(sigmoid(z) if model["kind"] == "logistic" else z)
        return np.array(out)

    def test_logistic_train_and_predict(self):
        params = {"model": "logistic", "features": self.FEATURES, "label": "y", "l2": 1e-3}
        summary, model, model_path = self.train(params, self.logit_csv)
        n = len(self.logit)
        self.assertEqual((summary["rowsIn"], summary["rowsOut"], summary["rowsRejected"]),
                         (n, n - 4, 4))
        metrics = summary["metrics"]
        self.assertGreaterEqual(metrics["accuracy"], 0.95, metrics)
        self.assertEqual(model["kind"], "logistic")
        self.assertEqual(model["features"], self.FEATURES)
        self.assertEqual(len(model["weights"]), 3)
        self.assertEqual(list(np.sign(model["weights"])), [1.0, -1.0, 1.0])
        self.assertEqual(model["metrics"]["accuracy"], metrics["accuracy"])

        summary, header, df = self.run_csv("predict", {}, [self.logit_csv, model_path])
        self.assertEqual(header, list(self.logit.columns) + ["score", "label"])
        self.assertEqual((summary["rowsIn"], summary["rowsOut"]), (n, n))
        self.assertEqual(strs(df["name"]), list(self.logit["name"]))
        expected = self.hand_scores(model, self.logit)
        score = floats(df["score"])
        self.assert_floats(score, expected, "score")
        self.assertEqual(ints(df["label"]), [None if np.isnan(s) else int(s >= 0.5) for s in expected])
        # The labels agree with the truth (and with the model's own accuracy metric).
        ok = [(l == t) for l, t, s in zip(ints(df["label"]), self.logit["y"], score)
              if t is not None and not np.isnan(s)]
        self.assertAlmostEqual(sum(ok) / len(ok), metrics["accuracy"], delta=1.0 / len(ok))

    def test_linear_recovers_weights(self):
        params = {"model": "linear", "features": self.FEATURES, "label": "target"}
        summary, model, model_path = self.train(params, self.lin_csv)
        self.assertEqual(model["kind"], "linear")
        np.testing.assert_allclose(model["weights"], self.true_w, atol=2e-3)
        self.assertAlmostEqual(model["bias"], self.true_b, delta=2e-3)
        self.assertGreater(summary["metrics"]["r2"], 0.9999)
        self.assertLess(summary["metrics"]["rmse"], 2e-3)
        # Least squares: compare with numpy's solution.
        x = np.array(self.lin[self.FEATURES].values, dtype=float)
        a = np.hstack([x, np.ones((len(x), 1))])
        sol = np.linalg.lstsq(a, np.array(self.lin["target"], dtype=float), rcond=None)[0]
        np.testing.assert_allclose(model["weights"] + [model["bias"]], sol, rtol=1e-6, atol=1e-8)

        summary, header, df = self.run_csv("predict", {}, [model_path, self.lin_csv])
        self.assertEqual(header, ["f1", "f2", "f3", "target", "score"])  # score replaced, no label
        self.assert_floats(floats(df["score"]), self.hand_scores(model, self.lin), "score", scale=1)
        # To Parquet and back.
        _, parquet = self.run_ok("predict", {}, [model_path, self.lin_csv], self.out("p.parquet"))
        summary, header, df2 = self.run_csv("noop", {}, parquet)
        self.assertEqual(df2.values.tolist(), df.values.tolist())

    def test_predict_by_hand_model(self):
        model = {"kind": "logistic", "features": ["x", "i"], "weights": [0.05, -0.002],
                 "bias": -2.5}
        path = self.write("hand.json", json.dumps(model))
        summary, header, df = self.run_csv("predict", {}, [self.main_csv, path])
        self.assertEqual(header, COLUMNS + ["score", "label"])
        self.assert_floats(floats(df["score"]), self.hand_scores(model, self.df), "score")

    def test_model_features_missing(self):
        params = {"model": "logistic", "features": self.FEATURES, "label": "y"}
        _, model, model_path = self.train(params, self.logit_csv)
        self.fails("predict", {}, [self.main_csv, model_path], "model feature 'f1'",
                   "not a column", "columns: " + ", ".join(COLUMNS))
        wrong = self.write("wrong.json", json.dumps({"kind": "linear", "features": ["x", "k"],
                                                     "weights": [1, 2], "bias": 0}))
        self.fails("predict", {}, [self.main_csv, wrong], "'k'", "VARCHAR", "not a number")

    def test_predict_errors(self):
        p = self.main_csv
        good = self.write("good.json", json.dumps({"kind": "linear", "features": ["x"],
                                                   "weights": [1.0], "bias": 0.0}))
        self.fails("predict", {}, p, "exactly one .json model", "0 given")
        self.fails("predict", {}, [p, good, good], "exactly one .json model", "2 given")
        self.fails("predict", {"threshold": 0.3}, [p, good], "params.threshold", "unknown parameter")
        bad = self.write("bad.json", '{"kind": "linear", "features": ["x"]')
        self.fails("predict", {}, [p, bad], "bad.json", "JSON")
        short = self.write("short.json", json.dumps({"kind": "linear", "features": ["x", "y"],
                                                     "weights": [1.0], "bias": 0.0}))
        self.fails("predict", {}, [p, short], "short.json", "model.weights")
        kind = self.write("kind.json", json.dumps({"kind": "tree", "features": ["x"],
                                                   "weights": [1.0], "bias": 0.0}))
        self.fails("predict", {}, [p, kind], "kind.json", "model.kind")
        self.fails("predict", {}, [p, self.out("absent.json")], "absent.json")

    def test_train_errors(self):
        p = self.logit_csv
        base = {"model": "logistic", "features": self.FEATURES, "label": "y"}
        out = self.out("m.json")
        self.fails("train", base, p, "--output", "json", output=self.out("m.csv"))
        self.fails("train", dict(base, model="svm"), p, "params.model", output=out)
        self.fails("train", dict(base, features=["f1", "nope"]), p, "params.features[1]", "'nope'",
                   "columns: f1, f2, f3, y, name", output=out)
        self.fails("train", dict(base, label="nope"), p, "params.label", "'nope'", output=out)
        self.fails("train", dict(base, features=["f1", "name"]), p, "params.features[1]", "'name'",
                   "not a number", output=out)
        self.fails("train", dict(base, features="f1"), p, "params.features", output=out)
        self.fails("train", dict(base, epochs="ten"), p, "params.epochs", output=out)
        self.fails("train", dict(base, l2=-1), p, "params.l2", output=out)
        self.fails("train", dict(base, learning_rate=0.1), p, "params.learning_rate",
                   "unknown parameter", output=out)
        self.fails("train", {"features": self.FEATURES, "label": "y"}, p, "params.model", output=out)
        existing = self.write("existing.json", "{}\n")
        self.fails("train", dict(base, label="nope"), p, output=existing)


if __name__ == "__main__":
    WORKER = take_arg(sys.argv, "--worker") or os.environ.get("AIDI_WORKER") or \
        os.path.join(REPO, "build", "bin", "aidi-worker")
    WORKER = os.path.abspath(WORKER)
    if not os.access(WORKER, os.X_OK):
        print("FAIL: aidi-worker not found or not executable: %s" % WORKER, file=sys.stderr)
        sys.exit(1)
    prog = unittest.main(module=__name__, exit=False, verbosity=2)
    r = prog.result
    print("\n== %d run, %d failures, %d errors, %d skipped"
          % (r.testsRun, len(r.failures), len(r.errors), len(r.skipped)))
    sys.exit(0 if r.wasSuccessful() else 1)
