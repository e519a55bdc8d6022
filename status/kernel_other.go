//go:build !linux

package status

// Kernel returns no kernel readers off Linux; the report then says what
// could not be checked.
func Kernel() (FlowLister, Probe) { return nil, nil }

// KernelPressure returns nil off Linux.
func KernelPressure() PressureReader { return nil }
