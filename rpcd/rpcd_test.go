package rpcd

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mapehelper/mapehelper/ruletable"
)

func methods() Methods {
	return Methods{
		Status: func(iface string) (any, error) {
			if iface == "boom" {
				return nil, errors.New("kaboom")
			}
			if iface == "panic" {
				panic("bad")
			}
			return map[string]any{"interfaces": []any{}, "asked": iface}, nil
		},
		Calc: Calculator(ruletable.Builtin()),
	}
}

// call runs one call and decodes its single JSON object.
func call(t testing.TB, m Methods, method, input string) map[string]any {
	t.Helper()
	var out bytes.Buffer
	if err := m.Call(method, strings.NewReader(input), &out); err != nil {
		t.Fatal(err)
	}
	return decodeOne(t, out.Bytes())
}

func decodeOne(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("output is not a JSON object: %v: %q", err, b)
	}
	if v == nil {
		t.Fatalf("output is null: %q", b)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("output has more than one JSON value: %q", b)
	}
	return v
}

func TestList(t *testing.T) {
	var b bytes.Buffer
	if err := List(&b); err != nil {
		t.Fatal(err)
	}
	v := decodeOne(t, b.Bytes())
	calc, ok := v["calc"].(map[string]any)
	if !ok || calc["prefix"] != "str" || calc["ealen"] != float64(32) || calc["legacymap"] != true {
		t.Errorf("calc signature = %v", v["calc"])
	}
	if st, ok := v["status"].(map[string]any); !ok || st["interface"] != "str" {
		t.Errorf("status signature = %v", v["status"])
	}
	if len(v) != 2 {
		t.Errorf("methods = %v, want exactly status and calc", v)
	}
}

func TestCallCalcSeed(t *testing.T) {
	v := call(t, methods(), "calc", `{"ubus_rpc_session":"abc","prefix":"240b:12:3456:7800::/56"}`)
	if v["ipv4"] != "14.8.52.86" || v["psid"] != float64(120) || v["ports"] != float64(240) ||
		v["ce"] != "240b:12:3456:7800:e:834:5600:7800" || v["br"] != "2404:9200:225:100::64" || v["isp"] != "v6plus" {
		t.Fatalf("calc = %v", v)
	}
	sets := v["port_sets"].([]any)
	if len(sets) != 15 || sets[0].([]any)[0] != float64(6016) || sets[14].([]any)[1] != float64(63375) {
		t.Errorf("port sets = %v", sets)
	}
}

func TestCallCalcOptions(t *testing.T) {
	// Explicit rule options as LuCI sends them (numbers as numbers or
	// strings, legacymap as a boolean).
	in := `{"prefix":"240b:12:3456:7800::/56","peeraddr":"2001:db8::1","ipaddr":"14.8.0.0","ip4prefixlen":"16",` +
		`"ip6prefix":"240b:12::","ip6prefixlen":32,"ealen":24,"psidlen":8,"offset":4,"legacymap":true}`
	v := call(t, methods(), "calc", in)
	if v["ipv4"] != "14.8.52.86" || v["psid"] != float64(120) || v["br"] != "2001:db8::1" {
		t.Fatalf("calc = %v", v)
	}
}

func TestCallErrors(t *testing.T) {
	tests := []struct {
		name, method, input, code, msg string
	}{
		{"unknown method", "reboot", `{}`, CodeUnknownMethod, "unknown method"},
		{"not an object", "calc", `[1]`, CodeInvalidInput, "JSON object"},
		{"broken json", "calc", `{"prefix":`, CodeInvalidInput, "input"},
		{"unknown key", "calc", `{"prefix":"240b::/56","rm":"-rf"}`, CodeInvalidInput, "unknown field"},
		{"trailing data", "calc", `{"prefix":"240b::/56"} {}`, CodeInvalidInput, "after the JSON object"},
		{"missing prefix", "calc", `{}`, CodeMissingPrefix, "no prefix"},
		{"empty input", "calc", ``, CodeMissingPrefix, "no prefix"},
		{"bad prefix", "calc", `{"prefix":"$(reboot)"}`, CodeInvalidInput, "not an IPv6"},
		{"no matching rule", "calc", `{"prefix":"2001:db8::/56"}`, CodeNoMatchingPD, ""},
		{"bad type", "calc", `{"prefix":"240b:12:3456:7800::/56","type":"map-x"}`, CodeUnsupportedType, ""},
		{"bad number", "calc", `{"prefix":"240b::/56","ealen":"many"}`, CodeInvalidInput, "whole number"},
		{"newline in value", "calc", `{"prefix":"240b::/56","peeraddr":"a\nb"}`, CodeInvalidInput, "control"},
		{"long value", "calc", `{"prefix":"` + strings.Repeat("a", 300) + `"}`, CodeInvalidInput, "limit is 256"},
		{"too large", "calc", `{"prefix":"` + strings.Repeat("a", MaxInput) + `"}`, CodeInputTooLarge, "larger than"},
		// What rpcd hands the plugin of a longer request: the first 64 KiB
		// (its stdin pipe), then EOF.
		{"cut by rpcd at 64 KiB", "calc", (`{"prefix":"` + strings.Repeat("a", MaxInput))[:MaxInput], CodeInputTooLarge, "at most 64 KiB"},
		{"status unknown key", "status", `{"iface":"x"}`, CodeInvalidInput, "unknown field"},
		{"status backend error", "status", `{"interface":"boom"}`, CodeFailed, "kaboom"},
		{"status panic", "status", `{"interface":"panic"}`, CodeInternal, "unexpectedly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := call(t, methods(), tt.method, tt.input)
			msg, _ := v["error"].(string)
			if v["code"] != tt.code || msg == "" || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %v, want code %s and error containing %q", v, tt.code, tt.msg)
			}
			if len(v) != 2 {
				t.Errorf("error answer has extra keys: %v", v)
			}
		})
	}
}

func TestCallStatus(t *testing.T) {
	v := call(t, methods(), "status", `{"ubus_rpc_session":"00000000000000000000000000000000"}`)
	if _, ok := v["interfaces"]; !ok || v["asked"] != "" {
		t.Errorf("status = %v", v)
	}
	v = call(t, methods(), "status", `{"interface":"wan_mape"}`)
	if v["asked"] != "wan_mape" {
		t.Errorf("status filter = %v", v)
	}
	v = call(t, Methods{}, "status", `{}`)
	if v["code"] != CodeInternal {
		t.Errorf("nil backend = %v", v)
	}
}

// FuzzRPCDCall feeds arbitrary input to every method: no panic, exactly
// one JSON object out, and the size limit holds.
func FuzzRPCDCall(f *testing.F) {
	for _, s := range []string{
		`{"prefix":"240b:12:3456:7800::/56"}`, `{}`, ``, `null`, `[]`, `{"prefix":1}`,
		`{"prefix":"240b:12:3456:7800::/56","ealen":"25","legacymap":"1","rule":"x"}`,
		`{"interface":"wan"}`, `{"prefix":"\u0000"}`, "\xff\xfe", `{"a":{"b":[`,
	} {
		f.Add("calc", s)
		f.Add("status", s)
	}
	f.Add("list", `{}`)
	m := methods()
	m.Status = func(string) (any, error) { return map[string]any{"interfaces": []any{}}, nil }
	f.Fuzz(func(t *testing.T, method, input string) {
		var out bytes.Buffer
		if err := m.Call(method, strings.NewReader(input), &out); err != nil {
			t.Fatal(err)
		}
		v := decodeOne(t, out.Bytes())
		if len(input) >= MaxInput && v["code"] != CodeInputTooLarge {
			t.Fatalf("input of %d bytes not rejected: %v", len(input), v)
		}
		if code, ok := v["code"]; ok {
			if msg, _ := v["error"].(string); msg == "" {
				t.Fatalf("error answer without message: %v", v)
			}
			_ = code
		}
	})
}
