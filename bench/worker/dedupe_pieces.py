#!/usr/bin/env python3
"""clean's dedupe over the benchmark CSV with the file cut into pieces (the worker's default for
big files, cuda-workers/ops/csv_pieces.h) and read whole (AIDI_WORKER_MIN_PIECE_BYTES above the
file's size: one row_number() over the whole file, DuckDB's one-thread scan), in alternating
pairs so that the machine's drift cancels out of each ratio.

usage (after bench/worker/run.sh made the data in build/bench-worker):
  /usr/bin/python3 bench/worker/dedupe_pieces.py [--runs 5] [--threads 2]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(worker, data, out, threads, whole):
    env = dict(os.environ)
    if whole:
        env["AIDI_WORKER_MIN_PIECE_BYTES"] = str(os.path.getsize(data) + 1)
    cmd = [worker, "run", "--op", "clean", "--params", '{"dedupe": ["k", "c"]}', "--input", data,
           "--output", out, "--threads", str(threads)]
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit("dedupe_pieces: %s" % r.stderr[-2000:])
    cut = "numbering CSV rows in pieces" in r.stderr
    if cut == whole:
        sys.exit("dedupe_pieces: expected the file %s" % ("whole" if whole else "cut"))
    return seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", default=os.path.join(ROOT, "build", "bin", "aidi-worker"))
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "bench-worker", "data.csv"))
    args = ap.parse_args()
    out_dir = os.path.join(os.path.dirname(args.data), "out")
    os.makedirs(out_dir, exist_ok=True)
    outputs = [os.path.join(out_dir, name) for name in ("pieces.csv", "whole.csv")]
    pieces, whole = [], []
    for _ in range(args.runs):
        pieces.append(run(args.worker, args.data, outputs[0], args.threads, whole=False))
        whole.append(run(args.worker, args.data, outputs[1], args.threads, whole=True))
    with open(outputs[0], "rb") as a, open(outputs[1], "rb") as b:
        if a.read() != b.read():
            sys.exit("dedupe_pieces: the two ways wrote different outputs")
    print("| dedupe (k, c) over CSV, %d threads | median s | runs |" % args.threads)
    print("|---|---:|---|")
    print("| cut into pieces (the worker) | %.2f | %s |" %
          (statistics.median(pieces), ", ".join("%.2f" % s for s in pieces)))
    print("| read whole (one row_number()) | %.2f | %s |" %
          (statistics.median(whole), ", ".join("%.2f" % s for s in whole)))
    print("\nratio pieces / whole, median of pairs: %.2fx; outputs identical." %
          statistics.median(p / w for p, w in zip(pieces, whole)))


if __name__ == "__main__":
    main()
