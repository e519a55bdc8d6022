//go:build linux

package status

// Kernel returns the conntrack reader and the tunnel/rule probe of the
// running kernel.
func Kernel() (FlowLister, Probe) { return NetlinkFlows{}, NetlinkProbe{} }

// KernelPressure returns the reader of the kernel's NAT pressure counters.
func KernelPressure() PressureReader { return NetlinkPressure{} }
