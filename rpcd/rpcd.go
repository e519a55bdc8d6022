// Package rpcd speaks rpcd's exec-plugin protocol, which is how
// `ubus call mape status` and `ubus call mape calc` reach mapehelper:
// rpcd runs `/usr/libexec/rpcd/mape list` once to learn the methods and
// their argument types, and `/usr/libexec/rpcd/mape call METHOD` per call
// with the arguments as a JSON object on stdin.
//
// rpcd forwards whatever the plugin prints, and a plugin that prints no
// JSON object makes ubus answer with a bare status code. So every call
// prints exactly one JSON object: the answer, or {"error", "code"} that
// LuCI can show. Input comes from a web session (through the ACL), so it
// is size-limited and checked strictly before anything uses it.
package rpcd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// MaxInput bounds the call input: anything of MaxInput bytes or more is
// refused. A calc request is well under 1 KiB; the limit keeps a hostile
// caller from making us buffer without bound. It is also exactly what
// rpcd hands an exec plugin of a longer request: rpcd writes the input
// once into the plugin's stdin pipe (64 KiB on Linux) and closes it,
// dropping the rest, so a request that fills 64 KiB was cut and would
// otherwise fail as broken JSON ("unexpected EOF").
const MaxInput = 64 << 10

// maxString bounds any single string argument; rule strings from DHCPv6
// can list many rules, so they get more room.
const (
	maxString     = 256
	maxRuleString = 4096
)

// Error codes of the {"error", "code"} answer, besides the MAP error codes
// (INVALID_MAP_RULE, NO_MATCHING_PD, UNSUPPORTED_TYPE, MISSING_PREFIX) a
// calc can fail with.
const (
	CodeInvalidInput  = "INVALID_INPUT"
	CodeInputTooLarge = "INPUT_TOO_LARGE"
	CodeUnknownMethod = "UNKNOWN_METHOD"
	CodeFailed        = "FAILED"
	CodeInternal      = "INTERNAL_ERROR"
)

// Error is a failed call: Code is machine-readable, Message is a sentence
// for the user.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"error"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Methods are the backends of the plugin's methods.
type Methods struct {
	// Status returns the status of every MAP interface (iface == "") or
	// of one.
	Status func(iface string) (any, error)
	// Calc runs the calculator.
	Calc func(CalcRequest) (any, error)
}

// signature is what `list` prints: method -> argument -> a value of the
// argument's type (rpcd maps "str" to string, 32 to int32, true to bool).
var signature = map[string]map[string]any{
	"status": {"interface": "str"},
	"calc": {
		"prefix": "str", "type": "str", "peeraddr": "str", "ipaddr": "str", "ip4prefixlen": 32,
		"ip6prefix": "str", "ip6prefixlen": 32, "ealen": 32, "psidlen": 32, "psid": 32,
		"offset": 32, "legacymap": true, "rule": "str",
	},
}

// List writes the method signatures for rpcd.
func List(w io.Writer) error {
	return json.NewEncoder(w).Encode(signature)
}

// Call runs one method with the JSON input read from in and writes exactly
// one JSON object to w. The returned error is only a failure to write.
func (m Methods) Call(method string, in io.Reader, w io.Writer) error {
	out := m.answer(method, in)
	b, err := json.Marshal(out)
	if err != nil {
		b, _ = json.Marshal(errorf(CodeInternal, "encode answer: %v", err))
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// answer never panics: a panic in a backend becomes an INTERNAL_ERROR
// answer rather than a crash that would leave rpcd without JSON.
func (m Methods) answer(method string, in io.Reader) (out any) {
	defer func() {
		if r := recover(); r != nil {
			out = errorf(CodeInternal, "%s failed unexpectedly: %v", method, r)
		}
	}()
	raw, e := readInput(in)
	if e != nil {
		return e
	}
	var (
		v   any
		err error
	)
	switch method {
	case "status":
		var req statusInput
		if e := decodeStrict(raw, &req); e != nil {
			return e
		}
		if e := checkString("interface", req.Interface, maxString); e != nil {
			return e
		}
		if m.Status == nil {
			return errorf(CodeInternal, "status is not available")
		}
		v, err = m.Status(req.Interface)
	case "calc":
		req, e := parseCalc(raw)
		if e != nil {
			return e
		}
		if m.Calc == nil {
			return errorf(CodeInternal, "calc is not available")
		}
		v, err = m.Calc(req)
	default:
		return errorf(CodeUnknownMethod, "unknown method %.40q (methods: status, calc)", method)
	}
	if err != nil {
		var re *Error
		if errors.As(err, &re) {
			return re
		}
		return errorf(CodeFailed, "%s: %v", method, err)
	}
	if v == nil {
		return map[string]any{}
	}
	return v
}

type statusInput struct {
	Interface string `json:"interface"`
	Session   string `json:"ubus_rpc_session"` // added by rpcd; ignored
}

// readInput reads less than MaxInput bytes; empty input stands for {}.
func readInput(in io.Reader) ([]byte, *Error) {
	if in == nil {
		return []byte("{}"), nil
	}
	raw, err := io.ReadAll(io.LimitReader(in, MaxInput))
	if err != nil {
		return nil, errorf(CodeInvalidInput, "read input: %v", err)
	}
	if len(raw) >= MaxInput {
		return nil, errorf(CodeInputTooLarge, "input is larger than %d bytes (rpcd passes at most 64 KiB to a plugin)", MaxInput-1)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}"), nil
	}
	return raw, nil
}

// decodeStrict decodes one JSON object with only known keys and nothing
// after it.
func decodeStrict(raw []byte, v any) *Error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return errorf(CodeInvalidInput, "input must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(CodeInvalidInput, "input: %s", shorten(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(CodeInvalidInput, "input has data after the JSON object")
	}
	return nil
}

// checkString rejects over-long values and control characters (a newline
// or escape sequence has no place in any option and could forge log
// lines).
func checkString(name, s string, limit int) *Error {
	if len(s) > limit {
		return errorf(CodeInvalidInput, "%s is %d bytes long, the limit is %d", name, len(s), limit)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return errorf(CodeInvalidInput, "%s contains a control or invalid character", name)
		}
	}
	return nil
}

func shorten(s string) string {
	const n = 200
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}
