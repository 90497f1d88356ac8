#!/usr/bin/env python3
"""Independent scorer for `fkp predict` output (standard library only).

usage: score-predictions.py PREDICTIONS.csv KEYPOINTS.csv IMAGE_DIR

Scores in the reference's 224 x 224 frame (x * 224 / width, y * 224 / height); image sizes are read from the PNG
headers (every file of the dataset is a PNG named .jpg). NME = mean point error / distance of points 36 and 45.
"""
import csv
import math
import struct
import sys


def png_size(path):
    with open(path, "rb") as f:
        header = f.read(24)
    return struct.unpack(">II", header[16:24])


def main(predictions, keypoints, image_dir):
    with open(keypoints) as f:
        rows = csv.reader(f)
        next(rows)
        truth = {r[0]: [float(v) for v in r[1:137]] for r in rows}
    with open(predictions) as f:
        rows = csv.reader(f)
        next(rows)
        predicted = {r[0]: [float(v) for v in r[1:137]] for r in rows}
    nme, mpe, absolute, squared = [], [], [], []
    for name, t in truth.items():
        p = predicted[name]
        w, h = png_size(f"{image_dir}/{name}")
        T = [(t[2 * i] * 224 / w, t[2 * i + 1] * 224 / h) for i in range(68)]
        P = [(p[2 * i] * 224 / w, p[2 * i + 1] * 224 / h) for i in range(68)]
        d = [math.dist(a, b) for a, b in zip(P, T)]
        nme.append(sum(d) / 68 / math.dist(T[36], T[45]))
        mpe.append(sum(d) / 68)
        for a, b in zip(P, T):
            for k in range(2):
                absolute.append(abs(a[k] - b[k]))
                squared.append((a[k] - b[k]) ** 2)
    n = len(nme)
    print(f"{n} images: NME {sum(nme) / n:.4f}, MAE {sum(absolute) / len(absolute):.3f}, "
          f"RMSE {math.sqrt(sum(squared) / len(squared)):.3f}, MPE {sum(mpe) / n:.3f}, "
          f"NME>0.08 {sum(v > 0.08 for v in nme) / n:.3f}, NME>0.10 {sum(v > 0.10 for v in nme) / n:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
