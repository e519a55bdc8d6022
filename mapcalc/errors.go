package mapcalc

import (
	"errors"
	"fmt"
)

// Error kinds. Every error this package returns wraps exactly one of them,
// so callers map errors to netifd error codes with errors.Is.
var (
	ErrInvalidRule      = errors.New("invalid MAP rule")           // a rule option is missing or malformed
	ErrInconsistentRule = errors.New("inconsistent MAP rule")      // lengths that cannot all be true
	ErrUnsupportedType  = errors.New("unsupported MAP type")       // type other than map-e/map-t/lw4o6
	ErrBadPrefix        = errors.New("bad IPv6 prefix")            // input is not a usable IPv6 prefix/address
	ErrPrefixTooShort   = errors.New("prefix too short")           // fewer bits than ip6prefixlen+ealen
	ErrNoMatchingPrefix = errors.New("no rule matches the prefix") // prefix outside every rule
)

// OptionError is a rejection that names the option at fault and the fix.
type OptionError struct {
	Kind    error  // one of the Err* kinds above
	Option  string // UCI option name, or "prefix" for the user's prefix
	Problem string
	Fix     string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s: %s: %s (fix: %s)", e.Kind, e.Option, e.Problem, e.Fix)
}

// Unwrap lets errors.Is match the kind.
func (e *OptionError) Unwrap() error { return e.Kind }

func optErr(kind error, option, problem, fix string) error {
	return &OptionError{Kind: kind, Option: option, Problem: problem, Fix: fix}
}
