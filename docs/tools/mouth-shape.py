#!/usr/bin/env python3
"""How much of the true mouth-shape variation a model's predictions carry.

usage: mouth-shape.py PREDICTIONS.csv KEYPOINTS.csv

PREDICTIONS.csv is `fkp predict` or `fkp evaluate` output (name,x0,y0,...); KEYPOINTS.csv the dataset's
keypoint CSV. For the images in both, prints the spread (population sd) of mouth width |p48 - p54| and inner
opening |p62 - p66|, each over the inter-ocular distance |p36 - p45|, predicted and true, their ratio and their
correlation. Python standard library only.
"""
import csv
import math
import statistics
import sys


def measures(path):
    """Mouth width and inner opening over the inter-ocular distance, by image name."""
    out = {}
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            p = [float(v) for v in row[1:137]]
            point = lambda i: (p[2 * i], p[2 * i + 1])
            iod = math.dist(point(36), point(45))
            out[row[0]] = (math.dist(point(48), point(54)) / iod, math.dist(point(62), point(66)) / iod)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    predicted, truth = measures(sys.argv[1]), measures(sys.argv[2])
    names = sorted(set(predicted) & set(truth))
    if len(names) < 3:
        sys.exit(f"only {len(names)} images are in both files")
    for k, label in enumerate(["mouth width", "inner opening"]):
        p = [predicted[n][k] for n in names]
        t = [truth[n][k] for n in names]
        sp, st = statistics.pstdev(p), statistics.pstdev(t)
        print(f"{label}: sd predicted {sp:.4f}, true {st:.4f}, ratio {sp / st:.2f}, "
              f"correlation {statistics.correlation(p, t):.2f} ({len(names)} images)")


if __name__ == "__main__":
    main()
