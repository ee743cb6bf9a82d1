#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# make deploy: builds every function with ko straight into the kind cluster
# (KO_DOCKER_REPO=kind.local, no registry), renders the kind overlay and
# applies it, then waits until Surge is ready and prints how to reach it.
# Run make kind-up first. Safe to run again (a new build rolls out new
# revisions; the secrets are kept).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_engine
require_kubectl
ensure_tool kind sigs.k8s.io/kind "$KIND_VERSION"
ensure_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
ensure_tool ko github.com/google/ko "$KO_VERSION"
kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER_NAME" ||
  die "There is no kind cluster named $KIND_CLUSTER_NAME: run make kind-up first."
k() { kubectl --context "$(kctx)" "$@"; }

overlay="$repo_root/infra/knative/overlays/kind"
secrets="$overlay/secrets.env"

rand_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# write_secrets creates secrets.env once: random credentials and the
# in-cluster URLs of the kind overlay's Redis, PostgreSQL and MinIO (whose
# passwords are read from these same values). Hex passwords need no URL
# escaping.
write_secrets() {
  local redis_pw pg_pw
  redis_pw="$(rand_hex 24)"
  pg_pw="$(rand_hex 24)"
  (
    umask 077
    cat >"$secrets" <<ENV
SURGE_REDIS_URL=redis://:${redis_pw}@redis.surge.svc.cluster.local:6379/0
SURGE_DATABASE_URL=postgres://surge:${pg_pw}@postgres.surge.svc.cluster.local:5432/surge?sslmode=disable
SURGE_S3_ACCESS_KEY=surge$(rand_hex 6)
SURGE_S3_SECRET_KEY=$(rand_hex 24)
SURGE_JWT_SECRET=$(rand_hex 32)
SURGE_ADMIN_TOKEN=$(rand_hex 24)
SURGE_RECEIPT_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
SURGE_CAPTCHA_SECRET=$(rand_hex 32)
SURGE_EVENT_KEY=$(rand_hex 32)
ENV
  )
  log "wrote $secrets (random values; kept for the next deploys)"
}
[[ -s "$secrets" ]] || write_secrets
# A secrets.env written before the event key existed gets one.
if ! grep -q '^SURGE_EVENT_KEY=' "$secrets"; then
  echo "SURGE_EVENT_KEY=$(rand_hex 32)" >>"$secrets"
  log "added SURGE_EVENT_KEY to $secrets"
fi

log "rendering the kind overlay and building the functions with ko"
rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
cd "$repo_root"
kustomize build "$overlay" |
  KO_CONFIG_PATH="$repo_root/infra/images" KO_DOCKER_REPO=kind.local KIND_CLUSTER_NAME="$KIND_CLUSTER_NAME" \
    ko resolve --base-import-paths --platform "linux/$(go env GOARCH)" -f - >"$rendered"

log "applying"
k apply -f "$rendered"

log "waiting for Redis, PostgreSQL and MinIO"
k wait deployment/redis deployment/postgres deployment/minio -n surge --for=condition=Available --timeout=300s
log "waiting for the broker, the functions and the triggers"
k wait broker/surge -n surge --for=condition=Ready --timeout=300s
k wait ksvc --all -n surge --for=condition=Ready --timeout=600s
k wait trigger --all -n surge --for=condition=Ready --timeout=300s
k wait sinkbinding --all -n surge --for=condition=Ready --timeout=120s
k wait pingsource --all -n surge --for=condition=Ready --timeout=120s
k wait eventpolicy --all -n surge --for=condition=Ready --timeout=120s

cat >&2 <<MSG
==> Surge is running in kind cluster $KIND_CLUSTER_NAME, namespace surge.
Reach the API on http://127.0.0.1:8088 with:
  kubectl --context $(kctx) -n envoy-gateway-system port-forward \\
    "\$(kubectl --context $(kctx) -n envoy-gateway-system get svc -o name \\
      -l gateway.envoyproxy.io/owning-gateway-namespace=surge,gateway.envoyproxy.io/owning-gateway-name=surge)" 8088:80
Admin token and JWT secret: infra/knative/overlays/kind/secrets.env
  (SURGE_ADMIN_TOKEN, SURGE_JWT_SECRET; go run ./local/cmd/jwt signs a user token with SURGE_JWT_SECRET).
After editing secrets.env, run make deploy again, then restart the functions:
  kubectl --context $(kctx) -n surge delete pod -l serving.knative.dev/service
MSG
