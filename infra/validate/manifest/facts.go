package manifest

import (
	"fmt"

	"github.com/surgekit/surge/events"
	"github.com/surgekit/surge/local/gateway"
)

// Emitters is what each function replies or publishes: the one place the
// validator knows who emits which event type. Package events could own it
// beside Terminal(); until it does, it lives here.
func Emitters() map[string][]string {
	return map[string][]string{
		"captcha":   {events.TypeClaimRequested},
		"prededuct": {events.TypeClaimReserved, events.TypeClaimRejected},
		"enqueue":   {events.TypeOrderQueued, events.TypeBudgetLow},
		"settle":    {events.TypeOrderSettled},
		// reconcile replies with its report and publishes its alerts, its
		// releases and the reservations it repairs.
		"reconcile": {events.TypeReconcileReport, events.TypeAlertRaised, events.TypeOrderReleased, events.TypeClaimReserved},
		// query publishes payments.
		"query": {events.TypeOrderPaid},
		// admin redrives dead letters: what a Trigger gave up on, sent
		// back as it first entered the broker (any type a Trigger takes).
		"admin": {events.TypeClaimRequested, events.TypeClaimReserved, events.TypeOrderQueued, events.TypePing},
	}
}

// KnownPing is the type a PingSource emits.
const KnownPing = events.TypePing

// KnownTypes are the event types a Trigger may filter on: every type the
// functions emit plus the PingSource's.
func KnownTypes() map[string]bool {
	known := map[string]bool{events.TypePing: true}
	for _, types := range Emitters() {
		for _, t := range types {
			known[t] = true
		}
	}
	return known
}

// Facts is what the manifests are cross-checked against: read from the
// code, never from the manifests themselves.
type Facts struct {
	Emitters map[string][]string // function → event types it emits
	Env      map[string][]string // function → SURGE_* / K_SINK variables it reads
	Routes   []gateway.Route     // the public API, as the local gateway routes it
	Terminal []string            // event types no Trigger needs to take
	External map[string][]string // Secret name → keys, for Secrets created outside the render
}

// ReadFacts reads the facts from the repository at repo.
func ReadFacts(repo string) (Facts, error) {
	env, err := ReadEnv(repo)
	if err != nil {
		return Facts{}, err
	}
	f := Facts{Emitters: Emitters(), Env: env, Routes: gateway.Routes(), Terminal: events.Terminal()}
	for fn := range env {
		if _, ok := f.Emitters[fn]; !ok {
			return Facts{}, fmt.Errorf("functions/%s is not in the validator's emitter table (manifest.Emitters)", fn)
		}
	}
	return f, nil
}
