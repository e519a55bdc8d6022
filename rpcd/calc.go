package rpcd

import (
	"errors"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/options"
)

// CalcRequest is a validated calc call: the user's prefix (or WAN address)
// and the rule options under their UCI names.
type CalcRequest struct {
	Prefix  string
	Options options.Interface
}

// calcInput is the wire form: options.Interface's fields are promoted, so
// the keys are the UCI option names LuCI already holds.
type calcInput struct {
	Prefix  string `json:"prefix"`
	Session string `json:"ubus_rpc_session"` // added by rpcd; ignored
	options.Interface
}

func parseCalc(raw []byte) (CalcRequest, *Error) {
	var in calcInput
	if e := decodeStrict(raw, &in); e != nil {
		return CalcRequest{}, e
	}
	o := in.Interface
	for _, f := range []struct{ name, v string }{
		{"prefix", in.Prefix}, {"proto", o.Proto}, {"type", o.Type}, {"tunlink", o.Tunlink},
		{"peeraddr", o.Peeraddr}, {"ipaddr", o.IPAddr}, {"ip6prefix", o.IP6Prefix},
		{"encaplimit", o.EncapLimit}, {"zone", o.Zone},
	} {
		if e := checkString(f.name, f.v, maxString); e != nil {
			return CalcRequest{}, e
		}
	}
	if e := checkString("rule", o.Rule, maxRuleString); e != nil {
		return CalcRequest{}, e
	}
	if strings.TrimSpace(in.Prefix) == "" {
		return CalcRequest{}, errorf(CodeMissingPrefix, "no prefix given: pass the delegated IPv6 prefix or the WAN IPv6 address as \"prefix\"")
	}
	return CalcRequest{Prefix: in.Prefix, Options: o}, nil
}

// MAP error codes shared with the netifd handler (network.registerErrorCode
// in LuCI translates them).
const (
	CodeInvalidRule     = "INVALID_MAP_RULE"
	CodeNoMatchingPD    = "NO_MATCHING_PD"
	CodeUnsupportedType = "UNSUPPORTED_TYPE"
	CodeMissingPrefix   = "MISSING_PREFIX"
)

// Calculator returns a Calc backend that resolves the rule against table
// (normally ruletable.Builtin()) the same way `mapehelper calc` does, and
// answers with the calculator's JSON.
func Calculator(table []mapcalc.Rule) func(CalcRequest) (any, error) {
	return func(req CalcRequest) (any, error) {
		in, err := options.ParseInput(req.Prefix)
		if err != nil {
			return nil, &Error{Code: CodeInvalidInput, Message: err.Error()}
		}
		res, err := options.Resolve(req.Options, table, in)
		if err != nil {
			return nil, &Error{Code: codeOf(err), Message: err.Error()}
		}
		return res, nil
	}
}

// codeOf maps a calculator error to its MAP error code.
func codeOf(err error) string {
	switch {
	case errors.Is(err, mapcalc.ErrUnsupportedType):
		return CodeUnsupportedType
	case errors.Is(err, mapcalc.ErrNoMatchingPrefix), errors.Is(err, mapcalc.ErrPrefixTooShort):
		return CodeNoMatchingPD
	case errors.Is(err, mapcalc.ErrBadPrefix):
		return CodeInvalidInput
	case errors.Is(err, mapcalc.ErrInvalidRule), errors.Is(err, mapcalc.ErrInconsistentRule):
		return CodeInvalidRule
	}
	return CodeFailed
}
