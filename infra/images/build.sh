#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds one image per function: with ko when it is installed (KO_DOCKER_REPO
# decides where they go: a registry, kind.local, or ko.local = the local
# engine), else with docker/podman and infra/images/Dockerfile. Run from the
# repository root (make images).
set -euo pipefail

readonly functions=(captcha prededuct enqueue settle reconcile query admin)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../kind/versions.env
source "$here/../kind/versions.env" # KO_VERSION

engine_up() {
  local e
  for e in docker podman; do
    if command -v "$e" >/dev/null 2>&1 && timeout 5 "$e" info >/dev/null 2>&1; then
      echo "$e"
      return 0
    fi
  done
  return 1
}

if command -v ko >/dev/null 2>&1; then
  engine=""
  engine="$(engine_up)" || true
  if [[ -z "${KO_DOCKER_REPO:-}" && -z "$engine" ]]; then
    echo "make images: ko needs KO_DOCKER_REPO (a registry to push to) or a running container engine (for ko.local); neither is set or running." >&2
    exit 1
  fi
  export KO_CONFIG_PATH="$here" KO_DOCKER_REPO="${KO_DOCKER_REPO:-ko.local}"
  args=()
  for f in "${functions[@]}"; do args+=("./functions/$f"); done
  exec ko build --base-import-paths --tags "${IMAGE_TAG:-dev}" "${args[@]}"
fi

if engine="$(engine_up)"; then
  for f in "${functions[@]}"; do
    "$engine" build -f "$here/Dockerfile" --build-arg "FUNCTION=$f" -t "${IMAGE_REPO:-surge}/$f:${IMAGE_TAG:-dev}" .
  done
  exit 0
fi

echo "make images: neither ko nor a running container engine (docker or podman) was found; install ko (go install github.com/google/ko@${KO_VERSION}) and set KO_DOCKER_REPO to a registry, or start Docker or Podman." >&2
exit 1
