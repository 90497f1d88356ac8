#!/usr/bin/env bash
# Short-schedule ablations of the training recipe: each step adds one choice of the shipped recipe to the
# reference's, trains 5 epochs from the ImageNet weights and scores the best-by-validation network on the test
# split with and without flip averaging. Prints a Markdown table; every run folder stays in RUNS.
#
#   docs/tools/run-ablations.sh TRAINER CLI DATA RUNS
#
# TRAINER and CLI are published sample apps (dotnet publish samples/FacialKeypoints.Trainer -c Release -o DIR,
# likewise samples/FacialKeypoints.Cli); DATA is the facial-keypoints folder; RUNS a folder for the run folders.
# A killed script can be started again: finished runs are skipped and unfinished ones resume.
# ABLATION_REPORT_ONLY=1 trains nothing and prints the rows of the runs that have finished.
set -euo pipefail

trainer=$1/FacialKeypoints.Trainer
cli=$2/fkp
data=$3
runs=$4
epochs=${ABLATION_EPOCHS:-5}
mkdir -p "$runs"

augment="--rotation 12 --scale 0.1 --translation 0.05 --jitter 0.2"
declare -a names=(
  "a-reference-128"
  "c-l1-augment-128"
  "g-as-c-spatial-head-128"
  "b-l1-128"
  "d-l1-augment-batch32-warmup-128"
  "e-as-d-layout-2223-128"
  "f-as-d-at-160"
)
declare -a settings=(
  "--input-size 128"
  "--input-size 128 --loss L1 $augment"
  "--input-size 128 --loss L1 $augment --head spatial"
  "--input-size 128 --loss L1"
  "--input-size 128 --loss L1 $augment --batch-size 32 --warmup 1"
  "--input-size 128 --loss L1 $augment --batch-size 32 --warmup 1 --layout ExtraFinalBlock"
  "--input-size 160 --loss L1 $augment --batch-size 32 --warmup 1"
)

for i in "${!names[@]}"; do
  [[ ${ABLATION_REPORT_ONLY:-0} == 1 ]] && break
  name=${names[$i]}
  dir=$runs/$name
  if [[ ! -f $dir/test-metrics.json ]]; then
    # shellcheck disable=SC2086 # settings are word lists on purpose
    "$trainer" --data "$data" --out "$dir" --epochs "$epochs" --flip-tta false --workers 2 ${settings[$i]}
  fi

  for flip in flip no-flip; do
    if [[ ! -f $dir/eval-$flip/metrics.json ]]; then
      extra=()
      [[ $flip == no-flip ]] && extra=(--no-flip)
      "$cli" evaluate --data "$data" --model "$dir/best.safetensors" --out "$dir/eval-$flip" "${extra[@]}" > /dev/null
    fi
  done

  if [[ ! -f $dir/eval-validation/metrics.json ]]; then
    "$cli" evaluate --data "$data" --split validation --model "$dir/best.safetensors" --out "$dir/eval-validation" > /dev/null
  fi
done

echo "| run | settings | best val NME | s/epoch | test NME (flip avg) | test NME (single) | MAE224 | RMSE224 | val mouth width: sd pred/truth, correlation |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for i in "${!names[@]}"; do
  dir=$runs/${names[$i]}
  [[ -f $dir/eval-validation/metrics.json ]] || continue
  TOOLS=$(dirname "$0") python3 - "$dir" "${names[$i]}" "${settings[$i]}" "$data" <<'EOF'
import csv, importlib.util, json, os, statistics, sys
d, name, settings, data = sys.argv[1:]

# Mouth width over the inter-ocular distance, as docs/tools/mouth-shape.py measures it.
spec = importlib.util.spec_from_file_location("mouth_shape", os.path.join(os.environ["TOOLS"], "mouth-shape.py"))
mouth_shape = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mouth_shape)
predicted = mouth_shape.measures(f"{d}/eval-validation/predictions.csv")
truth = mouth_shape.measures(f"{data}/training_frames_keypoints.csv")
names = sorted(predicted)
p, t = [predicted[n][0] for n in names], [truth[n][0] for n in names]
shape = f"{statistics.pstdev(p) / statistics.pstdev(t):.2f}, {statistics.correlation(p, t):.2f}"
rows = list(csv.DictReader(open(f"{d}/metrics.csv")))
best = min(rows, key=lambda r: float(r["val_loss"]))
secs = sum(float(r["seconds"]) for r in rows) / len(rows)
flip = json.load(open(f"{d}/eval-flip/metrics.json"))
single = json.load(open(f"{d}/eval-no-flip/metrics.json"))
print(f"| {name} | `{settings}` | {float(best['val_nme']):.4f} (epoch {best['epoch']}) | {secs:.0f} | "
      f"{flip['nme']:.4f} | {single['nme']:.4f} | {flip['mae224']:.2f} | {flip['rmse224']:.2f} | {shape} |")
EOF
done
