# Kubernetes targets, included from the root Makefile (include infra/kind/kind.mk).
# Paths are relative to the repository root, where make runs.

.PHONY: kind-up deploy kind-down images

## kind-up: a kind cluster with Knative Serving + Eventing and Envoy Gateway (versions: infra/kind/versions.env)
kind-up:
	@bash infra/kind/kind-up.sh

## deploy: build every function with ko into kind and apply infra/knative/overlays/kind
deploy:
	@bash infra/kind/deploy.sh

## kind-down: delete the kind cluster
kind-down:
	@bash infra/kind/kind-down.sh

## images: one container image per function (ko if installed, else docker/podman with infra/images/Dockerfile)
images:
	@bash infra/images/build.sh
