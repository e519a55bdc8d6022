//go:build linux

package status

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// ctnetlink messages and attributes (linux/netfilter/nfnetlink_conntrack.h);
// the netlink library declares neither.
const (
	ctGetStatsCPU = unix.NFNL_SUBSYS_CTNETLINK<<8 | 4 // IPCTNL_MSG_CT_GET_STATS_CPU
	ctGetStats    = unix.NFNL_SUBSYS_CTNETLINK<<8 | 5 // IPCTNL_MSG_CT_GET_STATS

	ctaStatsInsertFailed = 9  // CTA_STATS_INSERT_FAILED
	ctaStatsDrop         = 10 // CTA_STATS_DROP
	ctaStatsEarlyDrop    = 11 // CTA_STATS_EARLY_DROP

	ctaStatsGlobalEntries    = 1 // CTA_STATS_GLOBAL_ENTRIES
	ctaStatsGlobalMaxEntries = 2 // CTA_STATS_GLOBAL_MAX_ENTRIES
)

// NetlinkPressure reads the counters through ctnetlink (the `conntrack
// -S` and `conntrack -C` equivalents), the interface the conntrack table
// is already listed through: the package depends on
// kmod-nf-conntrack-netlink, so it is always there, while
// /proc/net/stat/nf_conntrack needs CONFIG_NF_CONNTRACK_PROCFS. Without
// CAP_NET_ADMIN both the table and these counters are unreadable and
// reported so; a procfs fallback for the counters alone would cost ~4 KB
// of the mipsel budget for a non-root view without the port figures.
type NetlinkPressure struct{}

// Pressure reads and sums the counters.
func (NetlinkPressure) Pressure() (Pressure, error) {
	var pr Pressure
	msgs, err := ctRequest(ctGetStatsCPU, unix.NLM_F_DUMP)
	if err != nil {
		return Pressure{}, fmt.Errorf("per-CPU stats: %w", err)
	}
	if len(msgs) == 0 {
		return Pressure{}, errors.New("per-CPU stats: no CPU answered")
	}
	for _, m := range msgs {
		err := ctAttrs(m, func(typ uint16, v uint32) {
			switch typ {
			case ctaStatsInsertFailed:
				pr.InsertFailed += uint64(v)
			case ctaStatsDrop:
				pr.Drop += uint64(v)
			case ctaStatsEarlyDrop:
				pr.EarlyDrop += uint64(v)
			}
		})
		if err != nil {
			return Pressure{}, fmt.Errorf("per-CPU stats: %w", err)
		}
	}
	// The kernel marks its one answer NLM_F_MULTI and sends no
	// NLMSG_DONE after it; the ACK ends the exchange instead.
	msgs, err = ctRequest(ctGetStats, unix.NLM_F_ACK)
	if err != nil {
		return Pressure{}, fmt.Errorf("table stats: %w", err)
	}
	for _, m := range msgs {
		err := ctAttrs(m, func(typ uint16, v uint32) {
			switch typ {
			case ctaStatsGlobalEntries:
				pr.Count = uint64(v)
			case ctaStatsGlobalMaxEntries:
				pr.Max = uint64(v)
			}
		})
		if err != nil {
			return Pressure{}, fmt.Errorf("table stats: %w", err)
		}
	}
	return pr, nil
}

func ctRequest(typ, flags int) ([][]byte, error) {
	req := nl.NewNetlinkRequest(typ, flags)
	req.AddData(&nl.Nfgenmsg{NfgenFamily: unix.AF_UNSPEC, Version: nl.NFNETLINK_V0})
	return req.Execute(unix.NETLINK_NETFILTER, 0)
}

// ctAttrs calls f with every 32-bit attribute after the nfgenmsg header;
// ctnetlink sends the counters big-endian.
func ctAttrs(msg []byte, f func(typ uint16, v uint32)) error {
	if len(msg) < nl.SizeofNfgenmsg {
		return errors.New("short message")
	}
	attrs, err := nl.ParseRouteAttr(msg[nl.SizeofNfgenmsg:])
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if len(a.Value) == 4 {
			f(a.Attr.Type&nl.NLA_TYPE_MASK, binary.BigEndian.Uint32(a.Value))
		}
	}
	return nil
}
