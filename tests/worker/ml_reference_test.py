#!/usr/bin/env python3
"""worker_ml_reference: aidi's train/predict against scikit-learn on built-in data sets.

Logistic regression on the breast-cancer data (stratified 70/30 split): aidi's test accuracy must
be within 0.01 of sklearn's LogisticRegression with C = 1 / (n_train * l2), the same objective
(cuda-workers/ml/README.md). Also checks that both reach the same objective value and weights,
and linear regression (diabetes data) against Ridge(alpha = n * l2). Needs Debian's
python3-sklearn (scripts/bootstrap installs it); fails without it.

usage: ml_reference_test.py --driver PATH/TO/worker_ml_driver
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split

FAILURES = []


def check(ok, message):
    print(("ok   " if ok else "FAIL ") + message)
    if not ok:
        FAILURES.append(message)


def write_csv(path, names, x, y=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names + (["label"] if y is not None else []))
        for i in range(x.shape[0]):
            row = [repr(float(v)) for v in x[i]]
            if y is not None:
                row.append(repr(float(y[i])))
            w.writerow(row)


def train(driver, tmp, params, x, y, names):
    train_csv = os.path.join(tmp, "train.csv")
    model_json = os.path.join(tmp, "model.json")
    write_csv(train_csv, names, x, y)
    out = subprocess.run([driver, "train", "--params", json.dumps(params), "--input", train_csv,
                          "--model", model_json, "--threads", "2"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"driver train failed: {out.stderr}")
    print("aidi train:", out.stdout.strip().splitlines()[-1])
    with open(model_json) as f:
        return json.load(f), model_json


def predict(driver, tmp, model_json, x, names):
    test_csv = os.path.join(tmp, "test.csv")
    scores_csv = os.path.join(tmp, "scores.csv")
    write_csv(test_csv, names, x)
    out = subprocess.run([driver, "predict", "--model", model_json, "--input", test_csv,
                          "--output", scores_csv], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"driver predict failed: {out.stderr}")
    with open(scores_csv) as f:
        rows = list(csv.DictReader(f))
    score = np.array([float(r["score"]) for r in rows])
    label = np.array([int(r["label"]) for r in rows]) if "label" in rows[0] else None
    return score, label


def logistic_objective(w, b, x, y, l2):
    s = x @ w + b
    loss = np.logaddexp(0, s) - y * s
    return loss.mean() + 0.5 * l2 * (w @ w)


def breast_cancer(driver, tmp, c):
    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, stratify=data.target, random_state=0)
    names = [f"f{j}" for j in range(x_train.shape[1])]
    n = x_train.shape[0]
    l2 = 1.0 / (c * n)
    model, model_json = train(driver, tmp, {"model": "logistic", "features": names,
                                            "label": "label", "l2": l2}, x_train, y_train, names)
    score, label = predict(driver, tmp, model_json, x_test, names)
    aidi_acc = float((label == y_test).mean())

    sk = LogisticRegression(C=c, solver="newton-cholesky", tol=1e-10, max_iter=1000)
    sk.fit(x_train, y_train)
    sk_acc = float(sk.score(x_test, y_test))
    sk_prob = sk.predict_proba(x_test)[:, 1]

    w = np.array(model["weights"])
    ours = logistic_objective(w, model["bias"], x_train, y_train, l2)
    theirs = logistic_objective(sk.coef_[0], sk.intercept_[0], x_train, y_train, l2)
    print(f"breast cancer C={c} (l2={l2:.3g}): test accuracy aidi {aidi_acc:.4f} sklearn "
          f"{sk_acc:.4f}; objective aidi {ours:.12g} sklearn {theirs:.12g}; "
          f"aidi iterations {model['metrics']['iterations']}")
    check(abs(aidi_acc - sk_acc) <= 0.01,
          f"C={c}: test accuracy {aidi_acc:.4f} within 0.01 of sklearn's {sk_acc:.4f}")
    check(ours <= theirs + 1e-9 * max(1.0, abs(theirs)),
          f"C={c}: objective {ours:.12g} <= sklearn's {theirs:.12g}")
    check(model["metrics"]["converged"], f"C={c}: converged")
    check(np.max(np.abs(score - sk_prob)) < 1e-4,
          f"C={c}: test probabilities match sklearn's (max diff "
          f"{np.max(np.abs(score - sk_prob)):.2g})")


def diabetes(driver, tmp, l2):
    data = load_diabetes()
    x, y = data.data, data.target
    names = [f"f{j}" for j in range(x.shape[1])]
    model, model_json = train(driver, tmp, {"model": "linear", "features": names, "label": "label",
                                            "l2": l2}, x, y, names)
    sk = Ridge(alpha=x.shape[0] * l2, solver="cholesky").fit(x, y)
    w = np.array(model["weights"])
    diff = np.max(np.abs(w - sk.coef_)) / np.max(np.abs(sk.coef_))
    print(f"diabetes l2={l2}: max relative weight difference {diff:.2g}, "
          f"bias {model['bias']:.10g} vs {sk.intercept_:.10g}, r2 {model['metrics']['r2']:.6f}")
    check(diff < 1e-8, f"linear l2={l2}: weights equal Ridge(alpha=n*l2)")
    check(abs(model["bias"] - sk.intercept_) < 1e-6 * abs(sk.intercept_),
          f"linear l2={l2}: bias equals Ridge's")
    check(abs(model["metrics"]["r2"] - sk.score(x, y)) < 1e-9, f"linear l2={l2}: r2 equals Ridge's")
    score, label = predict(driver, tmp, model_json, x, names)
    check(label is None and np.max(np.abs(score - sk.predict(x))) < 1e-6,
          f"linear l2={l2}: predictions equal Ridge's")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for c in (1.0, 100.0):
            breast_cancer(args.driver, tmp, c)
        for l2 in (0.0, 0.01):
            diabetes(args.driver, tmp, l2)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
