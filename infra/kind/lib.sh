# Shared by kind-up.sh, deploy.sh and kind-down.sh (sourced, not run).
# shellcheck source-path=SCRIPTDIR
# shellcheck shell=bash

kind_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
repo_root="$(cd "$kind_dir/../.." && pwd)"
# shellcheck source=versions.env
source "$kind_dir/versions.env"

tool_bin="${XDG_CACHE_HOME:-$HOME/.cache}/surge/bin"
export PATH="$tool_bin:$PATH"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s\n' "$*" >&2; exit 1; }

# require_engine exits at once, with one sentence, unless docker or podman
# answers within a few seconds (kind and ko both need a running engine).
require_engine() {
  local e
  for e in docker podman; do
    if command -v "$e" >/dev/null 2>&1 && timeout 5 "$e" info >/dev/null 2>&1; then
      if [[ "$e" == podman ]]; then export KIND_EXPERIMENTAL_PROVIDER=podman; fi
      return 0
    fi
  done
  die "No running container engine found (docker info and podman info both failed): the kind cluster needs Docker or Podman running, so nothing was done."
}

# ensure_tool NAME MODULE VERSION: NAME from PATH when it is the pinned
# version's binary we built, else `go install MODULE@VERSION` into tool_bin.
ensure_tool() {
  local name="$1" module="$2" version="$3" stamp
  stamp="$tool_bin/.$name-$version"
  if [[ -x "$tool_bin/$name" && -e "$stamp" ]]; then return 0; fi
  command -v go >/dev/null 2>&1 || die "$name $version is needed and Go is not installed to build it."
  log "building $name $version (once) into $tool_bin"
  mkdir -p "$tool_bin"
  GOBIN="$tool_bin" GOFLAGS=-buildvcs=false go install "$module@$version"
  rm -f "$tool_bin/.$name-"*
  touch "$stamp"
}

require_kubectl() {
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not installed: see https://kubernetes.io/docs/tasks/tools/."
}

kctx() { echo "kind-$KIND_CLUSTER_NAME"; }
