package rpcd

import (
	"os"
	"regexp"
	"testing"

	"github.com/mapehelper/mapehelper/dataplane"
)

// TestLuCIKnowsEveryCode keeps LuCI's error sentences complete: every code
// the data plane reports to netifd and every MAP code calc answers with
// has an entry in the errorCodes table of protocol/mape.js.
func TestLuCIKnowsEveryCode(t *testing.T) {
	b, err := os.ReadFile("../openwrt/luci-proto-mape/htdocs/luci-static/resources/protocol/mape.js")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)var errorCodes = \{(.*?)\n\};`).FindSubmatch(b)
	if block == nil {
		t.Fatal("mape.js has no errorCodes table")
	}
	have := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([A-Z_]+):\s*_\('`).FindAllSubmatch(block[1], -1) {
		have[string(m[1])] = true
	}
	for _, code := range []string{
		dataplane.CodeInvalidRule, dataplane.CodeNoMatchingPD, dataplane.CodeUnsupportedType, dataplane.CodeNoTunlink,
		dataplane.CodeNoPermission, dataplane.CodeNoKernelSupport, dataplane.CodeTunnelFailed, dataplane.CodeFirewallFailed,
		dataplane.CodeBusy, dataplane.CodeFailed,
		CodeInvalidRule, CodeNoMatchingPD, CodeUnsupportedType, CodeMissingPrefix,
	} {
		if !have[code] {
			t.Errorf("mape.js errorCodes lacks %s", code)
		}
	}
}
