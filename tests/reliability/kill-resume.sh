#!/usr/bin/env bash
# Interrupted training (issue 13, docs/reliability.md): a short run on a small subset is killed with SIGKILL at random
# moments, some of them while a checkpoint is being written, and resumed, KILLS times; then it must finish, every
# checkpoint on disk must match the SHA-256 its state recorded and load, and the result must equal an uninterrupted
# run with the same seed, bit for bit. Two uninterrupted runs also measure whether libtorch on CPU repeats itself.
#   tests/reliability/kill-resume.sh [KILLS] [SEED]      (defaults 20 and 13; FKP_DATA as for the tests)
set -euo pipefail
cd "$(dirname "$0")/../.."
kills="${1:-20}"
RANDOM="${2:-13}"
data="${FKP_DATA:-../shared/data}/facial-keypoints"
trainer=samples/FacialKeypoints.Trainer/bin/Release/net10.0/FacialKeypoints.Trainer.dll
[ -f "$trainer" ] || dotnet build samples/FacialKeypoints.Trainer -c Release 2>&1 | tail -n 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 32 training and 8 validation faces at 64 px, 10 epochs: about 2-4 s an epoch on 2 cores. The network starts from the
# shipped checkpoint (--init), a realistic fine-tuning run; since --seed also seeds a fresh network's initial weights,
# runs from ImageNet or random weights repeat bit for bit as well.
args=(--data "$data" --limit 32 --input-size 64 --epochs 10 --batch-size 8 --seed 7 --threads 1 --workers 1
  --init src/FacialKeypoints.Models.Pretrained/facial-keypoints-resnet18.safetensors --quiet)
train() { dotnet "$trainer" "${args[@]}" --out "$1" >"$1.log" 2>&1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# A finished run: every checkpoint file has the SHA-256 its state.json recorded (latest and previous), no temporaries
# are left, and the results equal the uninterrupted run's byte for byte.
check() {
  grep -q '"CompletedEpochs": 10' "$1/state.json"
  for f in "$1"/last-*.bin; do
    grep -qi "$(sha "$f")" "$1/state.json" || { echo "$f does not match the checksum in state.json" >&2; exit 1; }
  done
  [ -z "$(compgen -G "$1/*.tmp" || true)" ] && [ -z "$(compgen -G "$1/.*.tmp" || true)" ]
  for f in last-model-010.bin last-optimizer-010.bin best.safetensors test-predictions.csv; do
    if [ "$(sha "$work/reference/$f")" != "$(sha "$1/$f")" ]; then echo "the resumed run's $f differs from the uninterrupted run's" >&2; exit 1; fi
  done
  cut -d, -f1-6 "$work/reference/metrics.csv" | diff - <(cut -d, -f1-6 "$1/metrics.csv")
}

start=$SECONDS
train "$work/reference"
train "$work/repeat"
echo "uninterrupted run: $(( (SECONDS - start) / 2 )) s each"
for f in last-model-010.bin best.safetensors; do
  if [ "$(sha "$work/reference/$f")" = "$(sha "$work/repeat/$f")" ]; then echo "repeatable: two uninterrupted runs give the same $f, bit for bit"
  else echo "NOT repeatable: two uninterrupted runs differ in $f" >&2; exit 1; fi
done

run="$work/killed"
mkdir -p "$run"
killed=0 during_write=0 attempts=0
while [ "$killed" -lt "$kills" ]; do
  attempts=$((attempts + 1))
  dotnet "$trainer" "${args[@]}" --out "$run" >>"$run.log" 2>&1 &
  pid=$!
  if [ $((attempts % 3)) -eq 0 ]; then
    # Wait for a checkpoint write in progress (a temporary file beside its target), then kill at once.
    for _ in $(seq 1 600); do
      if compgen -G "$run/*.tmp" >/dev/null || compgen -G "$run/.*.tmp" >/dev/null; then break; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    mode="during a write ($(cd "$run" && ls -a | grep '\.tmp$' | head -n 1 || true))"
  else
    # A random moment in 1-6 s: start-up, data loading, a training step, validation or a write.
    sleep "$((1 + RANDOM % 5)).$((RANDOM % 10))"
    mode="at a random moment"
  fi
  if kill -KILL "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    killed=$((killed + 1))
    case "$mode" in during*) during_write=$((during_write + 1));; esac
    epoch=$(grep -o '"CompletedEpochs": [0-9]*' "$run/state.json" 2>/dev/null | head -n 1 | grep -o '[0-9]*$' || echo 0)
    echo "kill $killed: $mode, after epoch $epoch"
  else
    wait "$pid"
    check "$run"
    echo "the run finished before kill $((killed + 1)) and equals the uninterrupted run; starting it over to keep killing"
    rm -rf "$run" && mkdir -p "$run"
  fi
done

train "$run"
grep -q '"CompletedEpochs": 10' "$run/state.json"
echo "resumed run finished after $killed kills ($during_write during a checkpoint write), $((SECONDS - start)) s in all"

# Every checkpoint on disk is whole and the result equals the uninterrupted run; one more start on the finished run
# loads the latest network and optimiser (checksums verified) and the best network (the test-split evaluation)
# without training further.
check "$run"
train "$run"
grep -q "Test (770 images)" "$run.log"
check "$run"
echo "kill-resume: $killed SIGKILLs ($during_write during a checkpoint write) in $attempts starts; the resumed run equals the uninterrupted one bit for bit (network, optimiser, best model, test predictions, metrics); $((SECONDS - start)) s"
