#!/usr/bin/env bash
# Fetches the public expression sets used to train and check the expression classifier, pinned by commit, into a
# folder OUTSIDE this repository. Research-use data with unclear licences: never commit the images, the landmark
# caches or crops made from them. Git only; nothing else is downloaded.
#
#   docs/tools/get-expression-data.sh DEST [--from-mirror DIR]
#
# DEST gets one folder per set:
#   fer2013/     35,887 greyscale faces  darkbit404/FaceExp          split/{train,val,test}/<class>/N.jpg
#   taiwanese/    1,232 colour faces     lai-wei-cheng/b12207073     Taiwanese/faces_256x256 (5th character = class)
#   muxspace/    13,718 faces            muxspace/facial_expressions images/ and data/legend.csv
# docs/dataset.md describes the sets, their labels and the three-class mapping.
#
# --from-mirror DIR (or FKP_GIT_MIRROR=DIR) reads local bare copies instead of cloning: DIR/<owner>+<name>/repo
# (or DIR/<owner>+<name> itself) must be a git directory that holds the pinned commit. Without it, each repository
# is cloned bare (blob-less) into DEST/.git-cache and the pinned commit fetched.
# A set whose SOURCE.txt names the pinned commit is skipped; rerunning is cheap.
set -euo pipefail

tool=get-expression-data usage_lines=17
source "$(dirname "$0")/git-data.sh"
parse_dest_and_mirror "$@"

# name  repository  commit  strip-components  expected-jpgs  paths-in-repository...
sets=(
  "fer2013 darkbit404/FaceExp 616dda5c946ded0fb53210ff1bccbfc0bbf1ab7a 1 35887 split"
  "taiwanese lai-wei-cheng/b12207073 790c44989ebf3b9835806512ce2f929fe441244f 2 1232 Taiwanese/faces_256x256"
  "muxspace muxspace/facial_expressions 5fb9c13afac07c55eae8d25eb6b50af344ad60c9 0 13718 images data/legend.csv"
)

for entry in "${sets[@]}"; do
  read -r name repo commit strip expected paths <<<"$entry"
  read -r -a paths <<<"$paths"
  out="$dest/$name"
  if [[ -f $out/SOURCE.txt ]] && grep -q "^commit.$commit" "$out/SOURCE.txt"; then
    echo "$name: already there ($(find "$out" -name '*.jpg' | wc -l) images)"
    continue
  fi
  gd=$(git_dir_for "$repo" "$commit")
  rm -rf "$out.partial"
  mkdir -p "$out.partial"
  git --git-dir="$gd" archive --format=tar "$commit" -- "${paths[@]}" | tar -x -C "$out.partial" --strip-components="$strip"
  got=$(find "$out.partial" -name '*.jpg' | wc -l)
  if [[ $got -ne $expected ]]; then
    echo "get-expression-data: $repo@${commit:0:7} gave $got images, expected $expected" >&2
    exit 1
  fi
  rm -rf "$out"
  mv "$out.partial" "$out"
  printf 'repository\t%s\ncommit\t%s\npaths\t%s\nimages\t%s\n' "$repo" "$commit" "${paths[*]}" "$got" >"$out/SOURCE.txt"
  echo "$name: $got images from $repo@${commit:0:7}"
done
