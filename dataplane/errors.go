package dataplane

import (
	"errors"
	"fmt"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/tunnel"
)

// netifd error codes (proto_notify_error) that up and down report. The
// stock map package's codes keep their names so existing LuCI
// translations apply.
const (
	CodeInvalidRule     = "INVALID_MAP_RULE"  // the rule options are wrong
	CodeNoMatchingPD    = "NO_MATCHING_PD"    // no usable prefix, or no rule matches it
	CodeUnsupportedType = "UNSUPPORTED_TYPE"  // map-t and the like
	CodeNoTunlink       = "NO_TUNLINK"        // the link device does not exist
	CodeNoPermission    = "NO_PERMISSION"     // not root / no CAP_NET_ADMIN
	CodeNoKernelSupport = "NO_KERNEL_SUPPORT" // ip6_tunnel or nft NAT missing
	CodeTunnelFailed    = "TUNNEL_FAILED"     // any other tunnel error
	CodeFirewallFailed  = "FIREWALL_FAILED"   // nftables or the fw4 include failed
	CodeBusy            = "BUSY"              // another up/down holds the interface's lock
	CodeFailed          = "FAILED"            // anything else
)

// Error is a failure of up or down with the netifd code that describes it.
type Error struct {
	code string
	err  error
}

// Code is the netifd error code name.
func (e *Error) Code() string { return e.code }

func (e *Error) Error() string { return e.err.Error() }

// Unwrap exposes the cause to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.err }

func codeErr(code string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{code: code, err: err}
}

func codef(code, format string, args ...any) error {
	return &Error{code: code, err: fmt.Errorf(format, args...)}
}

// Code returns the netifd error code for any error of up, down or the rule
// resolution before them.
func Code(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.code
	case errors.Is(err, mapcalc.ErrUnsupportedType):
		return CodeUnsupportedType
	case errors.Is(err, mapcalc.ErrBadPrefix), errors.Is(err, mapcalc.ErrNoMatchingPrefix), errors.Is(err, mapcalc.ErrPrefixTooShort):
		return CodeNoMatchingPD
	case errors.Is(err, mapcalc.ErrInvalidRule), errors.Is(err, mapcalc.ErrInconsistentRule):
		return CodeInvalidRule
	}
	return CodeFailed
}

// tunnelCode classifies an error of package tunnel.
func tunnelCode(err error) string {
	switch {
	case errors.Is(err, tunnel.ErrNoLink):
		return CodeNoTunlink
	case errors.Is(err, tunnel.ErrPermission):
		return CodeNoPermission
	case errors.Is(err, tunnel.ErrNoKernelSupport):
		return CodeNoKernelSupport
	}
	return CodeTunnelFailed
}
