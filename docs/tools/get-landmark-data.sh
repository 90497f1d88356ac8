#!/usr/bin/env bash
# Fetches the iBUG 68-point training faces (images with .pts files beside them) from public GitHub repositories,
# pinned by commit, into a folder OUTSIDE this repository. Research-use data: never commit the images, the .pts
# files or crops made from them. Git only; nothing else is downloaded.
#
#   docs/tools/get-landmark-data.sh DEST [--from-mirror DIR]
#
# DEST gets one folder per set:
#   lfpw-train/   811 faces  tntrung/sdm_face_alignment  data/lfpw/trainset
#   helen-train/  870 faces  Spinkoo/Face-alignement     helen/trainset
#   afw/          337 faces  Spinkoo/Face-alignement     afw/afw   (held out: used to measure transfer)
# The repositories' testset folders are left out on purpose: they are for independent checking only (never
# train, tune or select on them).
#
# --from-mirror DIR (or FKP_GIT_MIRROR=DIR) reads local bare copies instead of cloning: DIR/<owner>+<name>/repo
# (or DIR/<owner>+<name> itself) must be a git directory that holds the pinned commit. Without it, each repository
# is cloned bare (blob-less) into DEST/.git-cache and the pinned commit fetched.
# A set whose folder already holds the expected number of .pts files is skipped; rerunning is cheap.
set -euo pipefail

tool=get-landmark-data usage_lines=18
source "$(dirname "$0")/git-data.sh"
parse_dest_and_mirror "$@"

# name  repository  commit  path-in-repository  expected-faces
sets=(
  "lfpw-train tntrung/sdm_face_alignment 0478bd013e43dec9197411d45617cd30a20876fb data/lfpw/trainset 811"
  "helen-train Spinkoo/Face-alignement e08a16aa91ad771df34e75f70bc5aaf20238ff6a helen/trainset 870"
  "afw Spinkoo/Face-alignement e08a16aa91ad771df34e75f70bc5aaf20238ff6a afw/afw 337"
)

for entry in "${sets[@]}"; do
  read -r name repo commit path expected <<<"$entry"
  out="$dest/$name"
  have=0
  [[ -d $out ]] && have=$(find "$out" -maxdepth 1 -name '*.pts' | wc -l)
  if [[ -f $out/SOURCE.txt ]] && grep -q "^commit.$commit" "$out/SOURCE.txt"; then
    echo "$name: already there ($have faces)"
    continue
  fi
  gd=$(git_dir_for "$repo" "$commit")
  rm -rf "$out.partial"
  mkdir -p "$out.partial"
  depth=$(awk -F/ '{print NF}' <<<"$path")
  # A local snapshot may lack some large blobs: leave those files out (and the face they belong to), and say so.
  missing=()
  if [[ -n $mirror ]]; then
    while read -r _ _ hash file; do
      git --git-dir="$gd" cat-file -e "$hash" 2>/dev/null || missing+=("$file")
    done < <(git --git-dir="$gd" ls-tree -r "$commit" -- "$path")
  fi
  excludes=()
  for file in "${missing[@]}"; do
    stem=${file%.*}
    excludes+=(":(exclude)$stem.*")
    echo "$name: ${file##*/} is missing from the local copy of $repo; its face is left out" >&2
  done
  git --git-dir="$gd" archive --format=tar "$commit" -- "$path" "${excludes[@]}" | tar -x -C "$out.partial" --strip-components="$depth"
  got=$(find "$out.partial" -maxdepth 1 -name '*.pts' | wc -l)
  if [[ $((got + ${#missing[@]})) -ne $expected ]]; then
    echo "get-landmark-data: $repo@$commit:$path gave $got .pts files (${#missing[@]} faces missing), expected $expected" >&2
    exit 1
  fi
  rm -rf "$out"
  mv "$out.partial" "$out"
  {
    printf 'repository\t%s\ncommit\t%s\npath\t%s\nfaces\t%s\n' "$repo" "$commit" "$path" "$got"
    for file in "${missing[@]}"; do printf 'missing\t%s\n' "${file##*/}"; done
  } >"$out/SOURCE.txt"
  echo "$name: $got faces from $repo@${commit:0:7}:$path"
done
