package firewall4

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// sockBuffer is the netlink receive and send buffer Open asks for.
// Receive: the kernel acks every message of a batch; an OCN ruleset (63
// port sets, 977 messages) overflows the default buffer with its acks
// (ENOBUFS) even though the batch itself was fine. Send: google/nftables
// sends the whole batch in one sendmsg, which fails with EMSGSIZE when it
// exceeds the socket's send buffer: OCN's batch is 195 KB, over the
// default of a 32-bit kernel (net.core.wmem_default, about 160 KB on
// mipsel and armhf, where the VM test caught it) and close to a 64-bit
// one's (208 KB). The size is a limit, not an allocation.
const sockBuffer = 4 << 20

// Open returns an nftables connection able to take our largest batch;
// opts are passed on (e.g. nftables.WithNetNSFd for tests).
func Open(opts ...nftables.ConnOption) (*nftables.Conn, error) {
	opts = append(opts, nftables.WithSockOptions(growBuffers))
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables: open netlink: %w", err)
	}
	return c, nil
}

// growBuffers raises the receive and send buffers past net.core.rmem_max
// and wmem_max when we may (SO_RCVBUFFORCE and SO_SNDBUFFORCE need
// CAP_NET_ADMIN, which up needs anyway), and within them otherwise.
func growBuffers(c *netlink.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var rerr, werr error
	if err := rc.Control(func(fd uintptr) {
		rerr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sockBuffer)
		werr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sockBuffer)
	}); err != nil {
		return err
	}
	if rerr != nil {
		if err := c.SetReadBuffer(sockBuffer); err != nil {
			return err
		}
	}
	if werr != nil {
		return c.SetWriteBuffer(sockBuffer)
	}
	return nil
}

// Apply replaces our table with rs in one netlink batch: add table, delete
// it, add it again with every chain and rule. The kernel applies the batch
// atomically, so there is never a moment with half a ruleset, and applying
// the same rs twice yields the same ruleset.
func Apply(c *nftables.Conn, rs *Ruleset) error {
	return apply(c, rs.built())
}

// apply loads the model m in one batch (see Apply).
func apply(c *nftables.Conn, m *table) error {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: m.name}
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	if err := queue(c, t, m); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: load table ip %s: %w", m.name, err)
	}
	return nil
}

// Delete removes our table of iface, whether or not it exists (add then
// delete in one batch, so a missing table is not an error).
func Delete(c *nftables.Conn, iface string) error {
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName(iface)}
	c.AddTable(t)
	c.DelTable(t)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete table ip %s: %w", t.Name, err)
	}
	return nil
}

// Exists reports whether our table of iface is loaded.
func Exists(c *nftables.Conn, iface string) (bool, error) {
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, fmt.Errorf("nftables: list tables: %w", err)
	}
	for _, t := range ts {
		if t.Name == TableName(iface) {
			return true, nil
		}
	}
	return false, nil
}
