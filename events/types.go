// Package events is the CloudEvent contract of the Surge chain: the event
// types, their payloads, the constructors every stage uses to build them and
// the validation every stage runs on what it receives.
//
// Types are reverse-DNS and versioned. Every reply has a type different from
// its input, so a Trigger never routes a function's reply back to itself.
// Event ids are deterministic per step (derived from the claim id), so a
// redelivered input produces the very same reply and the broker and the
// stages can deduplicate on source + id.
package events

// The event types of the chain, in the order a winning claim sees them.
const (
	TypeClaimRequested  = "dev.surgekit.claim.requested.v1"    // captcha → prededuct
	TypeClaimReserved   = "dev.surgekit.claim.reserved.v1"     // prededuct → enqueue
	TypeClaimRejected   = "dev.surgekit.claim.rejected.v1"     // prededuct, terminal
	TypeOrderQueued     = "dev.surgekit.order.queued.v1"       // enqueue → settle
	TypeOrderSettled    = "dev.surgekit.order.settled.v1"      // settle, terminal
	TypeOrderPaid       = "dev.surgekit.order.paid.v1"         // query (a payment), terminal
	TypeOrderReleased   = "dev.surgekit.order.released.v1"     // reconcile (the release driver), terminal
	TypeReconcileReport = "dev.surgekit.reconcile.reported.v1" // reconcile, terminal
	TypeAlertRaised     = "dev.surgekit.alert.raised.v1"       // reconcile → reconcile's alert log
	TypeBudgetLow       = "dev.surgekit.budget.low.v1"         // enqueue (a rain 90% issued, or exhausted), terminal
	// Ping is what a Knative PingSource sends; it drives reconcile.
	TypePing = "dev.knative.sources.ping"
)

// Terminal lists the types no Trigger subscribes to: the end of a path.
// order.paid and order.released end a reservation's life; they are for
// the host application (fulfilment, notifications) to subscribe to, and
// budget.low for the operator's alerting.
func Terminal() []string {
	return []string{TypeClaimRejected, TypeOrderSettled, TypeOrderPaid, TypeOrderReleased, TypeReconcileReport, TypeBudgetLow}
}

// Sources: one URI reference per stage.
const (
	SourceCaptcha   = "/surge/captcha"
	SourcePrededuct = "/surge/prededuct"
	SourceEnqueue   = "/surge/enqueue"
	SourceSettle    = "/surge/settle"
	SourceReconcile = "/surge/reconcile"
	SourceQuery     = "/surge/query"
)

// PartitionKeyExtension carries the ordering key (campaign/user) for brokers
// that deliver in order per key (the Kafka broker).
const PartitionKeyExtension = "partitionkey"

// RedriveExtension numbers an operator's redrive of a dead letter (1, 2, …).
// A redrive keeps the event's id, so every handler takes it as the same
// event; the number only tells a broker that deduplicates on source and id
// (the local one does, for two minutes) that this send is meant, and so it
// is set after signing and left out of the signature.
const RedriveExtension = "surgeredrive"

// Alert severities, least to most urgent.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Alert kinds: what reconcile saw.
const (
	AlertDeadLetter         = "dead_letter"            // the broker gave up on an event
	AlertRebuild            = "rebuild"                // a campaign's Redis state was rebuilt from PostgreSQL
	AlertUnrepairedMismatch = "unrepaired_mismatch"    // a pass found Redis and PostgreSQL disagreeing and did not repair it
	AlertRepairsOver        = "repairs_over_threshold" // a pass repaired more than SURGE_ALERT_REPAIR_THRESHOLD
)

// Budget thresholds of budget.low: a rain has issued 90% of its budget
// (low), or all of it (exhausted).
const (
	ThresholdLow       = "low"
	ThresholdExhausted = "exhausted"
)

// Rejection reasons, as the public API reports them.
const (
	ReasonSoldOut      = "sold_out"
	ReasonLimitReached = "limit_reached"
	ReasonNotOpen      = "not_open"
	ReasonClosed       = "closed"
	ReasonUnknownSKU   = "unknown_sku"
	ReasonFailed       = "failed" // dead-lettered: the chain gave up on it
)
