# Shared by get-landmark-data.sh and get-expression-data.sh (sourced, not run): the command line
# (DEST [--from-mirror DIR]), the refusal of a destination inside the repository, and a git directory that holds a
# pinned commit (a local bare mirror, or a blob-less bare clone in DEST/.git-cache). The caller sets `tool` (its
# name, for messages) and calls parse_dest_and_mirror "$@".

usage() { sed -n "2,${usage_lines:-17}p" "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# Sets dest (absolute, created) and mirror from the arguments; refuses a destination inside the repository.
parse_dest_and_mirror() {
  dest=""
  mirror=${FKP_GIT_MIRROR:-}
  while [[ $# -gt 0 ]]; do
    case $1 in
      --from-mirror) mirror=${2:?--from-mirror needs a folder}; shift 2 ;;
      -h|--help) usage ;;
      *) [[ -z $dest ]] || usage; dest=$1; shift ;;
    esac
  done
  [[ -n $dest ]] || usage

  local repo_root
  repo_root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null || true)
  dest=$(realpath -m "$dest")
  if [[ -n $repo_root && ( $dest == "$repo_root" || $dest == "$repo_root"/* ) ]]; then
    echo "$tool: $dest is inside the repository; choose a folder outside it (the data must not be committed)." >&2
    exit 2
  fi
  mkdir -p "$dest"
}

# Prints a git directory holding the commit.
git_dir_for() {
  local repo=$1 commit=$2 key=${1/\//+}
  if [[ -n $mirror ]]; then
    local d
    for d in "$mirror/$key/repo" "$mirror/$key"; do
      if git --git-dir="$d" cat-file -e "$commit^{commit}" 2>/dev/null; then echo "$d"; return; fi
    done
    echo "$tool: no git directory with commit $commit for $repo under $mirror" >&2
    exit 1
  fi
  local d="$dest/.git-cache/$key.git"
  if [[ ! -d $d ]]; then
    git clone --quiet --bare --filter=blob:none "https://github.com/$repo.git" "$d" >&2
  fi
  if ! git --git-dir="$d" cat-file -e "$commit^{commit}" 2>/dev/null; then
    git --git-dir="$d" fetch --quiet origin "$commit" >&2
  fi
  echo "$d"
}
