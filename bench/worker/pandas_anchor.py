#!/usr/bin/env python3
"""The pandas anchor of aidi-worker's ops: each op as a data team would write it in pandas
(Debian's python3-pandas), reading CSV and writing CSV, one process per run.

  pandas_anchor.py OP INPUT OUTPUT
"""
import sys

import numpy as np
import pandas as pd


def main():
    op, path, out = sys.argv[1:4]
    df = pd.read_csv(path)
    if op == "convert" or op == "noop":
        res = df
    elif op == "filter":
        res = df[(df["a"] > 0.5) & (df["c"] < 500)]
    elif op == "select":
        res = pd.DataFrame({"id": df["id"], "k": df["k"], "d": df["a"] * 2 + df["b"]})
    elif op == "clean":
        res = df.dropna(subset=["c"]).fillna({"b": 0})
    elif op == "dedupe":
        res = df.drop_duplicates(subset=["k", "c"])
    elif op == "normalize":
        res = df.copy()
        for col in ["a", "b"]:
            res[col] = (df[col] - df[col].mean()) / df[col].std(ddof=0)
    elif op == "groupby":
        res = df.groupby("k", sort=True).agg(s=("c", "sum"), m=("a", "mean"), n=("id", "size")).reset_index()
    elif op == "sort":
        res = df.sort_values("a", ascending=False, na_position="last")
    elif op == "topk":
        res = df.nlargest(1000, "a")
    elif op == "predict":  # run.py's MODEL
        res = df.copy()
        z = 0.5 + 2.0 * df["a"] + -0.004 * df["b"]
        res["score"] = 1 / (1 + np.exp(-z))
        res["label"] = (res["score"] >= 0.5).astype(np.int64)
    elif op == "histogram":
        counts, edges = np.histogram(df["a"].dropna().to_numpy(), bins=50, range=(0.0, 1.0))
        res = pd.DataFrame({"bin_lo": edges[:-1], "bin_hi": edges[1:], "count": counts})
    else:
        sys.exit("pandas_anchor: unknown op " + op)
    res.to_csv(out, index=False)


if __name__ == "__main__":
    main()
