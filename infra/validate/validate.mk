# Offline validation of the Knative manifests: infra/validate is its own Go
# module, so the Knative, Kubernetes, Gateway API and kustomize types never
# enter the main module. Include from the root Makefile:
#
#   include infra/validate/validate.mk
#   test: vet lint validate
#
# It renders infra/knative (base, overlays/kind, overlays/production) with
# kustomize, decodes every object strictly into its Go type, runs Knative's
# defaults and validation, cross-checks the render against the code (events,
# functions' environment, gateway routes, local broker), prints one line
# per kustomization, then runs the module's tests (the negative cases).

GO ?= go
VALIDATE_DIR := infra/validate

.PHONY: validate

## validate: render and validate the Knative manifests offline (no cluster needed)
validate:
	cd $(VALIDATE_DIR) && $(GO) vet ./... && $(GO) run . -repo ../.. && $(GO) test -count=1 ./...
