package status

// Pressure is the kernel's NAT pressure: conntrack's per-CPU counters,
// summed, and the table's fill. They are the kernel's, not one
// interface's (the same in every interface of a report).
type Pressure struct {
	// Count and Max are the conntrack entries now and the table's size
	// (net.netfilter.nf_conntrack_max); a full table drops new flows.
	Count uint64 `json:"count"`
	Max   uint64 `json:"max"`
	// InsertFailed counts new flows the kernel could not enter in the
	// table: after NAT the flow's reply tuple clashed with an existing
	// one, e.g. no free port in our sets towards that destination.
	InsertFailed uint64 `json:"insert_failed"`
	// Drop counts packets dropped because a new entry could not be made
	// (table full and nothing to evict, or out of memory).
	Drop uint64 `json:"drop"`
	// EarlyDrop counts unreplied entries evicted to make room in a full
	// table.
	EarlyDrop uint64 `json:"early_drop"`
}

// PressureReader reads the counters.
type PressureReader interface {
	Pressure() (Pressure, error)
}
