#!/usr/bin/env python3
"""The scikit-learn anchor of aidi-worker's train: LogisticRegression (lbfgs) on the same CSV,
one process (read, fit), then the test accuracy on the held-out CSV (not timed).

  sklearn_anchor.py TRAIN.csv TEST.csv L2   -> prints {"fit_seconds", "accuracy"} as JSON
"""
import json
import sys
import time

import pandas as pd
from sklearn.linear_model import LogisticRegression


def main():
    train, test, l2 = sys.argv[1], sys.argv[2], float(sys.argv[3])
    start = time.perf_counter()
    df = pd.read_csv(train)
    x, y = df.drop(columns=["y"]).to_numpy(), df["y"].to_numpy()
    # aidi's objective is mean loss + (l2/2)||w||^2; scikit-learn's is C * sum loss + ||w||^2 / 2.
    c = 1.0 / (len(y) * l2) if l2 > 0 else 1e12
    model = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    seconds = time.perf_counter() - start
    t = pd.read_csv(test)
    accuracy = model.score(t.drop(columns=["y"]).to_numpy(), t["y"].to_numpy())
    print(json.dumps({"seconds": seconds, "accuracy": accuracy}))


if __name__ == "__main__":
    main()
