package handlertest

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mapehelper/mapehelper/dataplane"
	"github.com/mapehelper/mapehelper/mapcalc"
	"github.com/mapehelper/mapehelper/options"
	"github.com/mapehelper/mapehelper/ruletable"
	"github.com/mapehelper/mapehelper/tunnel"
)

// The test binary doubles as a stand-in for `mapehelper up --netifd` and
// `mapehelper down`: the handler scripts run it through a wrapper named
// mapehelper on PATH. It records its argv and stdin and answers with the
// netifd-mode contract of cmd/mapehelper/up.go, computed by the real
// calculator (options.Resolve, the built-in ISP tables) with the real error
// codes (dataplane.Code); it creates no kernel objects. The real tunnel and rules are the data plane's tests' business.

// fakeCall is one recorded invocation of the stand-in binary.
type fakeCall struct {
	Argv  []string `json:"argv"`
	Stdin string   `json:"stdin"`
}

// fakeMain runs instead of the tests when MAPEHELPER_FAKE is set.
func fakeMain(args []string) int {
	if len(args) > 0 && args[0] == "linkprefix" {
		return fakeLinkPrefix(args[1:]) // a pure query: not recorded
	}
	var stdin []byte
	if len(args) > 0 && args[0] == "up" {
		stdin, _ = io.ReadAll(os.Stdin)
	}
	if err := appendJSONLine(os.Getenv("MAPEHELPER_FAKE_LOG"), fakeCall{Argv: args, Stdin: string(stdin)}); err != nil {
		fmt.Fprintln(os.Stderr, "fake mapehelper:", err)
		return 1
	}
	if len(args) == 0 {
		return 2
	}
	switch args[0] {
	case "down":
		return 0
	case "up":
	default:
		fmt.Fprintf(os.Stderr, "fake mapehelper: unknown command %q\n", args[0])
		return 2
	}
	switch os.Getenv("MAPEHELPER_FAKE_MODE") {
	case "record": // the real binary answers (see world.useRealBinary)
		return 0
	case "crash":
		fmt.Fprintln(os.Stderr, "fake mapehelper: crashed before answering")
		return 1
	case "busy":
		return answerError("BUSY", "interface wanmap: another up or down holds the lock")
	case "nokernel":
		return answerError("NO_KERNEL_SUPPORT", "create tunnel map-wanmap: ip6_tunnel is not available")
	}
	// Like up.go: the JSON first, then the flags, which win.
	var o options.Interface
	if err := json.Unmarshal(stdin, &o); err != nil {
		return answerError("FAILED", fmt.Sprintf("options JSON: %v", err))
	}
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	o.RegisterFlags(fs)
	flags := map[string]*string{"--interface": fs.String("interface", "", ""), "--link": fs.String("link", "", ""),
		"--prefix": fs.String("prefix", "", "")}
	fs.Bool("netifd", false, "")
	fs.Bool("stdin-json", false, "")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "fake mapehelper: bad arguments %q: %v\n", args, err)
		return 2
	}
	in, err := options.ParseInput(*flags["--prefix"])
	if err == nil {
		var res *mapcalc.Result
		if res, err = options.Resolve(o, ruletable.Builtin(), in); err == nil {
			return answerResult(res, *flags["--interface"], o.MTU)
		}
	}
	return answerError(dataplane.Code(err), err.Error())
}

// answerError prints what up --netifd prints on failure (reportUp in
// cmd/mapehelper/up.go): {"code": CODE, "error": message}.
func answerError(code, msg string) int {
	b, _ := json.Marshal(map[string]any{"code": code, "error": msg})
	fmt.Println(string(b))
	fmt.Fprintln(os.Stderr, "mapehelper up:", msg)
	return 1
}

func answerResult(res *mapcalc.Result, iface string, mtu options.Int) int {
	b, err := json.Marshal(res)
	if err != nil {
		return answerError("FAILED", err.Error())
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return answerError("FAILED", err.Error())
	}
	out["tunnel"] = tunnel.DeviceName(iface)
	out["mtu"] = 1460
	if mtu.Set {
		out["mtu"] = mtu.Value
	}
	b, _ = json.Marshal(out)
	fmt.Println(string(b))
	return 0
}

// fakeLinkPrefix answers `linkprefix [--used P]` with the real
// options.LinkPrefix, as cmd/mapehelper/linkprefix.go does.
func fakeLinkPrefix(args []string) int {
	fs := flag.NewFlagSet("linkprefix", flag.ContinueOnError)
	used := fs.String("used", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return 2
	}
	b, _ := io.ReadAll(os.Stdin)
	p, err := options.LinkPrefix(b, *used)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mapehelper linkprefix:", err)
		return 1
	}
	fmt.Println(p)
	return 0
}

func appendJSONLine(path string, v any) error {
	if path == "" {
		return errors.New("MAPEHELPER_FAKE_LOG not set")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
