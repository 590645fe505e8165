#!/usr/bin/env python3
"""aidi-worker's CPU benchmark: each op over ROWS rows (default 10M) with 2 threads, whole
process, next to its anchors in the same run:
  - the equivalent plain DuckDB query run the same way (npm @duckdb/node-api, same threads),
    on Parquet input (Parquet output) and on CSV input (CSV output);
  - pandas (Debian's python3-pandas) on the CSV input, writing CSV;
and train on 1M rows x 30 features against scikit-learn's LogisticRegression (lbfgs), with the
test accuracy of each on 250k held-out rows. Prints markdown; see run.sh.

  run.py --worker build/bin/aidi-worker --work DIR [--rows N] [--runs R] [--threads T]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (worker op, params, plain DuckDB SQL over {S} (the source; or {format: SQL}), pandas op
# or None)
CASES = [
    ("noop", "noop", {}, "SELECT * FROM {S}", "noop"),
    ("filter", "filter", {"where": "a > 0.5 and c < 500"},
     "SELECT * FROM {S} WHERE a > 0.5 AND c < 500", "filter"),
    ("select", "select", {"columns": ["id", "k"], "derive": {"d": "a * 2 + b"}},
     "SELECT id, k, a * 2 + b AS d FROM {S}", "select"),
    ("clean (dropNull, fillNull)", "clean", {"dropNull": ["c"], "fillNull": {"b": 0}},
     "SELECT * REPLACE (coalesce(b, 0) AS b) FROM {S} WHERE c IS NOT NULL", "clean"),
    # The first row of each (k, c) in input order, as clean's dedupe (and pandas) keep; DuckDB's
    # DISTINCT ON keeps an arbitrary one, so it is not the same query.
    # Input order is Parquet's file_row_number (read in parallel); CSV has none, so
    # row_number(), which DuckDB runs on one thread.
    ("clean (dedupe k, c)", "clean", {"dedupe": ["k", "c"]},
     {fmt: "SELECT arg_min_null(id, r) AS id, k, arg_min_null(a, r) AS a, "
           "arg_min_null(b, r) AS b, c FROM (SELECT *, %s AS r FROM {S}) GROUP BY k, c "
           "ORDER BY min(r)" % number
      for fmt, number in (("parquet", "file_row_number"), ("csv", "row_number() OVER ()"))},
     "dedupe"),
    ("normalize (zscore a, b)", "normalize", {"columns": ["a", "b"], "method": "zscore"},
     "SELECT * REPLACE ((a - avg(a) OVER ()) / stddev_pop(a) OVER () AS a, "
     "(b - avg(b) OVER ()) / stddev_pop(b) OVER () AS b) FROM {S}", "normalize"),
    ("groupby (k: sum, mean, count)", "groupby",
     {"keys": ["k"], "aggs": {"s": "sum(c)", "m": "mean(a)", "n": "count()"}},
     "SELECT k, sum(c) AS s, avg(a) AS m, count(*) AS n FROM {S} GROUP BY k ORDER BY k", "groupby"),
    ("sort (a desc)", "sort", {"by": [{"column": "a", "desc": True}]},
     "SELECT * FROM {S} ORDER BY a DESC", "sort"),
    ("sort (top 1000 by a)", "sort", {"by": [{"column": "a", "desc": True}], "limit": 1000},
     "SELECT * FROM {S} ORDER BY a DESC LIMIT 1000", "topk"),
    # The model is MODEL below: logistic over a and b.
    ("predict (logistic, a, b)", "predict", {},
     "SELECT * EXCLUDE (s), s AS score, CAST(s >= 0.5 AS BIGINT) AS label "
     "FROM (SELECT *, 1 / (1 + exp(-(0.5 + 2.0 * a + -0.004 * b))) AS s FROM {S})", "predict"),
    ("histogram (a, 50 bins)", "histogram", {"column": "a", "bins": 50, "min": 0, "max": 1},
     "SELECT floor(a * 50) AS bin, count(*) AS n FROM {S} WHERE a BETWEEN 0 AND 1 "
     "GROUP BY bin ORDER BY bin", "histogram"),
]


# What predict applies: a model file as train writes it (metrics are optional).
MODEL = {"kind": "logistic", "features": ["a", "b"], "weights": [2.0, -0.004], "bias": 0.5}


def timed(cmd, env=None):
    start = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit("bench: %s failed:\n%s" % (" ".join(cmd[:4]), r.stderr[-2000:]))
    return seconds, r.stdout


def pair_medians(ws, ds):
    """(median worker s, median DuckDB s, ratio): the ratio is the median of each worker run
    over the DuckDB run right after it, so that drift in the machine's speed during the
    benchmark (it is shared) cancels out of each pair instead of landing on one side."""
    return (statistics.median(ws), statistics.median(ds),
            statistics.median(w / d for w, d in zip(ws, ds)))


def median_of(runs, fn):
    return statistics.median(fn() for _ in range(runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--cases", help="only the cases whose name contains this text (no convert/train)")
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    worker = os.path.abspath(args.worker)
    for f in ("duckdb_anchor.mjs", "gen.mjs"):
        shutil.copy(os.path.join(HERE, f), work)
    if not os.path.exists(os.path.join(work, "data.parquet")):
        print("bench: generating %d rows" % args.rows, file=sys.stderr)
        timed(["node", os.path.join(work, "gen.mjs"), work, str(args.rows)])
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir, exist_ok=True)
    model_path = os.path.join(work, "bench_model.json")
    with open(model_path, "w") as f:
        json.dump(MODEL, f)
    t = str(args.threads)
    src = {"parquet": "read_parquet('%s/data.parquet')" % work,
           "csv": "read_csv('%s/data.csv')" % work}
    rows = []
    for name, op, params, sql, pandas_op in CASES:
        if args.cases and args.cases not in name:
            continue
        row = {"case": name}
        for fmt in ("parquet", "csv"):
            ext = "parquet" if fmt == "parquet" else "csv"
            inp = "%s/data.%s" % (work, fmt)
            out = "%s/w.%s" % (out_dir, ext)
            inputs = [inp, model_path] if op == "predict" else [inp]
            wcmd = [worker, "run", "--op", op, "--params", json.dumps(params), "--input", *inputs,
                    "--output", out, "--threads", t, "--device", "cpu", "--log-level", "warn"]
            dsql = "COPY (%s) TO '%s/d.%s' (FORMAT %s%s)" % (
                (sql[fmt] if isinstance(sql, dict) else sql).format(S=src[fmt]), out_dir, ext, ext, ", HEADER true" if ext == "csv" else "")
            dcmd = ["node", os.path.join(work, "duckdb_anchor.mjs"), t, dsql]
            ws, ds = [], []
            for _ in range(args.runs):  # alternate, so drift on a shared machine hits both
                ws.append(timed(wcmd)[0])
                ds.append(timed(dcmd)[0])
            row[fmt] = pair_medians(ws, ds)
            print("bench: %-30s %-7s worker %.2f s  duckdb %.2f s  ratio %.2fx" % ((name, fmt) + row[fmt]),
                  file=sys.stderr)
        if pandas_op and not args.skip_pandas:
            row["pandas"] = timed(["/usr/bin/python3", os.path.join(HERE, "pandas_anchor.py"),
                                   pandas_op, "%s/data.csv" % work, "%s/p.csv" % out_dir])[0]
            print("bench: %-30s pandas %.2f s" % (name, row["pandas"]), file=sys.stderr)
        rows.append(row)

    if args.cases:
        print_table(rows)
        return

    # convert: CSV in, Parquet out (the usual first stage).
    conv = {"case": "convert (CSV -> Parquet)"}
    wcmd = [worker, "run", "--op", "convert", "--params", "{}", "--input", "%s/data.csv" % work,
            "--output", "%s/w.parquet" % out_dir, "--threads", t, "--device", "cpu",
            "--log-level", "warn"]
    dcmd = ["node", os.path.join(work, "duckdb_anchor.mjs"), t,
            "COPY (SELECT * FROM read_csv('%s/data.csv')) TO '%s/d.parquet' (FORMAT parquet)" % (work, out_dir)]
    ws, ds = [], []
    for _ in range(args.runs):
        ws.append(timed(wcmd)[0])
        ds.append(timed(dcmd)[0])
    conv["csv"] = pair_medians(ws, ds)
    rows.append(conv)

    # train: 1M x 30, then the test accuracy through predict.
    l2 = 1e-4
    train = {"model": "logistic", "features": ["f%d" % j for j in range(30)], "label": "y", "l2": l2}
    model = "%s/model.json" % out_dir
    tcmd = [worker, "run", "--op", "train", "--params", json.dumps(train), "--input",
            "%s/train.csv" % work, "--output", model, "--threads", t, "--device", "cpu", "--log-level", "warn"]
    train_s = median_of(args.runs, lambda: timed(tcmd)[0])
    timed([worker, "run", "--op", "predict", "--input", "%s/test.csv" % work, model, "--output",
           "%s/pred.csv" % out_dir, "--threads", t, "--log-level", "warn"])
    import csv
    with open("%s/pred.csv" % out_dir) as f:
        rd = csv.DictReader(f)
        hits = total = 0
        for r in rd:
            total += 1
            hits += int(r["label"]) == int(r["y"])
    worker_acc = hits / total
    sk = json.loads(timed(["/usr/bin/python3", os.path.join(HERE, "sklearn_anchor.py"),
                           "%s/train.csv" % work, "%s/test.csv" % work, str(l2)])[1])

    print_table(rows)
    print()
    print("train, logistic, 1M rows x 30 features (CSV), l2 = %g: aidi-worker %.2f s (test accuracy %.4f); "
          "scikit-learn LogisticRegression(C = 1/(n l2), lbfgs) with pandas.read_csv %.2f s (test accuracy %.4f)."
          % (l2, train_s, worker_acc, sk["seconds"], sk["accuracy"]))


def print_table(rows):
    print("| op | worker, Parquet (s) | DuckDB, Parquet (s) | ratio | worker, CSV (s) | DuckDB, CSV (s) | ratio | pandas, CSV (s) | worker vs pandas |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cells = [r["case"]]
        for fmt in ("parquet", "csv"):
            if fmt in r:
                w, d, ratio = r[fmt]
                cells += ["%.2f" % w, "%.2f" % d, "%.2fx" % ratio]
            else:
                cells += ["—", "—", "—"]
        if "pandas" in r:
            cells += ["%.2f" % r["pandas"], "%.1fx faster" % (r["pandas"] / r["csv"][0])]
        else:
            cells += ["—", "—"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
