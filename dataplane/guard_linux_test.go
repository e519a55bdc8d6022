package dataplane

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestGuard: where the kernel has tc clsact, u32 and gact (the VM,
// OpenWrt with kmod-sched-core) the guard leaves exactly two egress
// filters, u32 "src = IPv4 → ok" before "anything → drop", also when
// called again with another IPv4. Where it lacks them (the CI host has no
// act_gact) the error must be NO_KERNEL_SUPPORT naming kmod-sched-core;
// MAPEHELPER_NEED_TC=1 (set in the VM) turns that into a failure.
func TestGuard(t *testing.T) {
	env, _ := testEnv(t)
	for i, ip := range []string{"14.8.52.86", "14.8.52.87"} {
		err := guard(env.Netlink, env.NetNS, "wan0", netip.MustParseAddr(ip))
		if err != nil && guardCode(err) == CodeNoKernelSupport && os.Getenv("MAPEHELPER_NEED_TC") != "1" {
			if msg := guardHint(err).Error(); !strings.Contains(msg, "kmod-sched-core") {
				t.Fatalf("error %q does not name kmod-sched-core", msg)
			}
			t.Logf("kernel lacks tc support: checked the classification only (%v)", err)
			return
		}
		if err != nil {
			t.Fatalf("guard %s: %v (code %s)", ip, err, guardCode(err))
		}
		l, err := env.Netlink.LinkByName("wan0")
		if err != nil {
			t.Fatal(err)
		}
		fs, err := env.Netlink.FilterList(l, netlink.HANDLE_MIN_EGRESS)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 {
			t.Fatalf("round %d: %d egress filters, want 2: %+v", i, len(fs), fs)
		}
		want := netip.MustParseAddr(ip).As4()
		for _, f := range fs {
			u, ok := f.(*netlink.U32)
			if !ok || len(u.Actions) != 1 {
				t.Fatalf("filter %+v: want u32 with one action", f)
			}
			act, _ := u.Actions[0].(*netlink.GenericAction)
			switch u.Priority {
			case 1:
				k := u.Sel.Keys
				if len(k) != 1 || k[0].Off != 12 || k[0].Mask != 0xffffffff ||
					k[0].Val != uint32(want[0])<<24|uint32(want[1])<<16|uint32(want[2])<<8|uint32(want[3]) ||
					act == nil || act.Action != netlink.TC_ACT_OK {
					t.Fatalf("priority 1 = %+v %+v, want src %s → ok", u.Sel, act, ip)
				}
			case 2:
				if act == nil || act.Action != netlink.TC_ACT_SHOT {
					t.Fatalf("priority 2 action %+v, want drop", act)
				}
			default:
				t.Fatalf("filter of priority %d", u.Priority)
			}
		}
	}
}
