package events

// Types lists every event type of the chain, PingSource's included: the
// bounded set a metric may take a type label from (the broker counts what
// it ingests by type; any other type is counted as "other").
func Types() []string {
	return []string{TypeClaimRequested, TypeClaimReserved, TypeClaimRejected, TypeOrderQueued, TypeOrderSettled,
		TypeOrderPaid, TypeOrderReleased, TypeReconcileReport, TypeAlertRaised, TypeBudgetLow, TypePing}
}
