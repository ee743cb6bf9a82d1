package manifest

import (
	"context"
	"fmt"
	"maps"

	"knative.dev/eventing/pkg/apis/config"
	"knative.dev/eventing/pkg/apis/feature"
	"knative.dev/pkg/apis"
)

// brokerDefaults is config-br-defaults as Knative Eventing ships it
// (config/core/configmaps/default-broker.yaml): a Broker without a class
// annotation becomes channel-based.
const brokerDefaults = `clusterDefault:
  brokerClass: MTChannelBasedBroker
  apiVersion: v1
  kind: ConfigMap
  name: config-br-default-channel
  namespace: knative-eventing
`

// Context is what a Knative webhook hands SetDefaults and Validate for a
// create on an installation set up as infra/kind/kind-up.sh sets it up:
// the default feature flags (delivery timeouts are on, for instance) with
// authentication-oidc enabled (without it the webhook refuses an
// EventPolicy), and the shipped broker defaults. Serving reads its own
// defaults through FromContextOrDefaults.
func Context(ctx context.Context) (context.Context, error) {
	defaults, err := config.NewDefaultsConfigFromMap(map[string]string{"default-br-config": brokerDefaults})
	if err != nil {
		return nil, fmt.Errorf("broker defaults: %w", err)
	}
	ctx = apis.WithinCreate(ctx)
	ctx = config.ToContext(ctx, &config.Config{Defaults: defaults})
	flags := maps.Clone(feature.FromContextOrDefaults(ctx))
	flags[feature.OIDCAuthentication] = feature.Enabled
	return feature.ToContext(ctx, flags), nil
}

// Admit applies the object's Knative defaults and runs its Knative
// validation, as the admission webhook does. Kinds that are not Knative
// types are left alone (the API server validates them by schema, which the
// strict decode already stands in for).
func Admit(ctx context.Context, o Object) error {
	if d, ok := o.Value.(apis.Defaultable); ok {
		d.SetDefaults(ctx)
	}
	v, ok := o.Value.(apis.Validatable)
	if !ok {
		return nil
	}
	if fe := v.Validate(ctx).Filter(apis.ErrorLevel); fe != nil {
		return fmt.Errorf("%s: knative validation: %w", o.Ref, fe)
	}
	return nil
}
