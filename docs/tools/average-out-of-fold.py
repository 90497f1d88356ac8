#!/usr/bin/env python3
"""Scores the average of several out-of-fold probability files (EmotionFit --cv-out) against the labels.

Usage: average-out-of-fold.py LABELS.csv OOF.csv [OOF.csv ...]

Each OOF file has rows name,predicted,p_neutral,p_positive,p_negative from the same cross-validation folds, so
their average is the cross-validated prediction of the equally weighted ensemble. The decision is positive when
the averaged positive probability is at least 0.5 (the models have two classes; negative is never predicted).
Prints accuracy, positive precision / recall / F1, positive AUC (negatives counted with the neutrals) and the
confusion matrix.
"""
import csv
import sys


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    labels = {r["name"]: r["label"] for r in csv.DictReader(open(argv[1], newline=""))}
    files = [{r["name"]: float(r["p_positive"]) for r in csv.DictReader(open(f, newline=""))} for f in argv[2:]]
    names = [n for n in files[0] if labels.get(n, "unclear") != "unclear"]
    p = {n: sum(f[n] for f in files) / len(files) for n in names}
    confusion = {}
    for n in names:
        predicted = "positive" if p[n] >= 0.5 else "neutral"
        confusion[(labels[n], predicted)] = confusion.get((labels[n], predicted), 0) + 1
    c = lambda a, b: confusion.get((a, b), 0)
    tp, fn = c("positive", "positive"), c("positive", "neutral")
    fp = c("neutral", "positive") + c("negative", "positive")
    accuracy = (tp + c("neutral", "neutral")) / len(names)
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    pos = [p[n] for n in names if labels[n] == "positive"]
    rest = [p[n] for n in names if labels[n] != "positive"]
    auc = sum((a > b) + 0.5 * (a == b) for a in pos for b in rest) / (len(pos) * len(rest))
    print(f"{len(names)} faces, {len(files)} model(s): accuracy {accuracy:.3f}, positive F1 {f1:.3f} "
          f"(P {precision:.3f}, R {recall:.3f}), positive AUC {auc:.3f}")
    print("actual \\ predicted: neutral positive negative")
    for a in ("neutral", "positive", "negative"):
        print(f"{a}: {c(a, 'neutral')} {c(a, 'positive')} 0")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
