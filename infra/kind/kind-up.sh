#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# make kind-up: a kind cluster with Knative Serving (Kourier ingress),
# Knative Eventing (channel-based broker on InMemoryChannel) and Envoy
# Gateway for the public HTTPRoute, all at the versions of versions.env.
# Safe to run again: an existing cluster is reused and every apply is
# idempotent. The Surge dependencies (Redis, PostgreSQL, MinIO) are part of
# the kind overlay and come with make deploy.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_engine # first, so a machine without an engine fails in seconds
require_kubectl
ensure_tool kind sigs.k8s.io/kind "$KIND_VERSION"

if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER_NAME"; then
  log "cluster $KIND_CLUSTER_NAME exists; reusing it"
else
  log "creating kind cluster $KIND_CLUSTER_NAME ($KIND_NODE_IMAGE)"
  kind create cluster --name "$KIND_CLUSTER_NAME" --image "$KIND_NODE_IMAGE" \
    --config "$kind_dir/kind-config.yaml" --wait 120s
fi
k() { kubectl --context "$(kctx)" "$@"; }

serving="https://github.com/knative/serving/releases/download/knative-$KNATIVE_VERSION"
kourier="https://github.com/knative-extensions/net-kourier/releases/download/knative-$KNATIVE_VERSION"
eventing="https://github.com/knative/eventing/releases/download/knative-$KNATIVE_VERSION"
envoy_gateway="https://github.com/envoyproxy/gateway/releases/download/$ENVOY_GATEWAY_VERSION/install.yaml"

log "Knative Serving $KNATIVE_VERSION + Kourier"
k apply -f "$serving/serving-crds.yaml"
k wait --for=condition=Established crd --all --timeout=120s
k apply -f "$serving/serving-core.yaml"
k apply -f "$kourier/kourier.yaml"
k patch configmap/config-network -n knative-serving --type merge \
  -p '{"data":{"ingress-class":"kourier.ingress.networking.knative.dev"}}'

log "Knative Eventing $KNATIVE_VERSION (channel-based broker, InMemoryChannel)"
k apply -f "$eventing/eventing-crds.yaml"
k wait --for=condition=Established crd --all --timeout=120s
k apply -f "$eventing/eventing-core.yaml"
k apply -f "$eventing/in-memory-channel.yaml"
k apply -f "$eventing/mt-channel-broker.yaml"
# The Triggers set delivery.timeout: make sure the feature is on whatever the
# release default is. authentication-oidc: every sender gets an OIDC
# identity and the broker enforces the EventPolicies of
# infra/knative/base/eventpolicy.yaml (which the webhook refuses to admit
# while the feature is off). Tokens then travel in cleartext inside the
# cluster unless transport-encryption is on too: fine for kind, not for
# production.
k patch configmap/config-features -n knative-eventing --type merge \
  -p '{"data":{"delivery-timeout":"enabled","authentication-oidc":"enabled"}}'

log "Envoy Gateway $ENVOY_GATEWAY_VERSION (Gateway API)"
k apply --server-side --force-conflicts -f "$envoy_gateway"

log "waiting for the control planes"
for ns in knative-serving kourier-system knative-eventing envoy-gateway-system; do
  k wait deployment --all -n "$ns" --for=condition=Available --timeout=300s
done
k apply -f "$kind_dir/gateway.yaml"

log "cluster ready: make deploy builds the functions and deploys Surge"
