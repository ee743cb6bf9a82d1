#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# make kind-down: deletes the kind cluster (and everything in it).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_engine
ensure_tool kind sigs.k8s.io/kind "$KIND_VERSION"
kind delete cluster --name "$KIND_CLUSTER_NAME"
