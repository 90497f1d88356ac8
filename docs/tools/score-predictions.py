#!/usr/bin/env python3
"""Independent scorer for `fkp predict` output (standard library only).

usage: score-predictions.py PREDICTIONS.csv KEYPOINTS.csv IMAGE_DIR

Scores in the reference's 224 x 224 frame (x * 224 / width, y * 224 / height); image sizes are read from the PNG
headers (every file of the dataset is a PNG named .jpg). NME = mean point error / distance of points 36 and 45.

`fkp predict` writes one row per face found. Where an image has several rows, the face whose landmark box overlaps
the true landmark box most is scored (the usual rule for alignment behind a detector); images with no row are
counted as missed and left out of the averages (the summary line says how many).
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
    predicted = {}
    with open(predictions) as f:
        rows = csv.reader(f)
        next(rows)
        for r in rows:
            predicted.setdefault(r[0], []).append([float(v) for v in r[1:137]])
    nme, mpe, absolute, squared = [], [], [], []
    missed = several = 0
    for name, t in truth.items():
        faces = predicted.get(name, [])
        if not faces:
            missed += 1
            continue
        several += len(faces) > 1
        p = max(faces, key=lambda f: overlap(box(f), box(t)))
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
          f"NME>0.08 {sum(v > 0.08 for v in nme) / n:.3f}, NME>0.10 {sum(v > 0.10 for v in nme) / n:.3f}; "
          f"missed {missed}, several faces {several}")


def box(points):
    xs, ys = points[0::2], points[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def overlap(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inner = max(w, 0) * max(h, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inner
    return inner / union if union > 0 else 0


if __name__ == "__main__":
    main(*sys.argv[1:4])
