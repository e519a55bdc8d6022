package firewall4

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/nftables"
	"github.com/mapehelper/mapehelper/dataplane/nstest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// BenchmarkApplyOneAck measures a candidate fix for the cost of Apply's
// acks (issue 14, goal 5): google/nftables asks the kernel to ack every
// message of the batch and reads each ack with two recvmsg calls (a peek
// for the size, then the read), about 900 system calls for OCN's 450
// messages, 40 % of Apply's CPU time in a profile on the host. Here the
// same batch (captured through the library's test dialer, so built by the
// same code) is sent on a socket of our own with only the last message
// asking for an ack: the kernel still reports every failing message, as
// NLMSG_ERROR, whatever the flag. Compare with BenchmarkApply/*/replace in
// the same run; root only.
func BenchmarkApplyOneAck(b *testing.B) {
	nstest.Require(b, "ip")
	for _, tc := range benchRulesets(b) {
		rs := tc.rs
		ns := nstest.New(b)
		b.Run(tc.name+"/replace", func(b *testing.B) {
			for b.Loop() {
				if err := applyOneAck(int(ns.Handle), rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// applyOneAck builds Apply's batch, then sends it with one ack.
func applyOneAck(nsfd int, rs *Ruleset) error {
	var msgs []netlink.Message
	c, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) {
		msgs = append(msgs, req...)
		acks := make([]netlink.Message, 0, len(req))
		for _, m := range req {
			acks = append(acks, netlink.Message{Header: netlink.Header{Type: netlink.Error, Sequence: m.Header.Sequence, PID: m.Header.PID}, Data: make([]byte, 4)})
		}
		return acks, nil
	}))
	if err != nil {
		return err
	}
	if err := Apply(c, rs); err != nil {
		return err
	}
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: nsfd})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetReadBuffer(sockBuffer); err != nil {
		return err
	}
	// msgs: batch begin, the table's messages, batch end
	last := len(msgs) - 2
	for i := range msgs {
		msgs[i].Header.Sequence, msgs[i].Header.PID = uint32(i+1), 0
		if i != last {
			msgs[i].Header.Flags &^= netlink.Acknowledge
		}
	}
	if _, err := conn.SendMessages(msgs); err != nil {
		return err
	}
	for {
		replies, err := conn.Receive()
		if err != nil {
			return err
		}
		for _, m := range replies {
			if m.Header.Type != netlink.Error {
				continue
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data[:4])); code != 0 {
				return fmt.Errorf("message %d: errno %d", m.Header.Sequence, -code)
			}
			if m.Header.Sequence == uint32(last+1) {
				return nil
			}
		}
	}
}
