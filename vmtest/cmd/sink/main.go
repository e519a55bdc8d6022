// Command sink is the IPv4 server of the VM test. It stands behind the BR
// and reports what a real server on the Internet would see: the source
// address and port of every TCP connection and UDP datagram (it tells the
// client in its reply) and the identifier of every ICMP echo request. A
// control connection hands the recorded observations to the test script,
// so the test judges ports by what left the BR, not by what the CE claims.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Observation is one flow as the server saw it.
type Observation struct {
	Proto string `json:"proto"` // tcp, udp or icmp
	Src   string `json:"src"`   // source IPv4
	Port  uint16 `json:"port"`  // source port, or echo identifier for icmp
	Dport uint16 `json:"dport,omitempty"`
}

// recorder keeps observations until the control client takes them.
type recorder struct {
	mu  sync.Mutex
	obs []Observation
}

func (r *recorder) add(o Observation) {
	r.mu.Lock()
	r.obs = append(r.obs, o)
	r.mu.Unlock()
}

func (r *recorder) take() []Observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	obs := r.obs
	r.obs = nil
	if obs == nil {
		obs = []Observation{}
	}
	return obs
}

func main() {
	tcpPorts := flag.String("tcp", "", "comma-separated TCP ports to accept on")
	udpPorts := flag.String("udp", "", "comma-separated UDP ports to answer on")
	icmp := flag.Bool("icmp", false, "record ICMP echo requests (the kernel answers them)")
	ctl := flag.String("ctl", "127.0.0.1:9000", "control address: send \"take\" to get and clear the observations as JSON")
	flag.Parse()
	if err := run(*tcpPorts, *udpPorts, *icmp, *ctl); err != nil {
		fmt.Fprintf(os.Stderr, "sink: %v\n", err)
		os.Exit(1)
	}
}

func run(tcpPorts, udpPorts string, icmp bool, ctl string) error {
	rec := &recorder{}
	for _, p := range split(tcpPorts) {
		ln, err := net.Listen("tcp4", ":"+p)
		if err != nil {
			return fmt.Errorf("listen tcp %s: %w", p, err)
		}
		go serveTCP(ln, rec)
	}
	for _, p := range split(udpPorts) {
		pc, err := net.ListenPacket("udp4", ":"+p)
		if err != nil {
			return fmt.Errorf("listen udp %s: %w", p, err)
		}
		go serveUDP(pc, rec)
	}
	if icmp {
		pc, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err != nil {
			return fmt.Errorf("open raw icmp socket: %w", err)
		}
		go recordICMP(pc, rec)
	}
	ln, err := net.Listen("tcp", ctl)
	if err != nil {
		return fmt.Errorf("listen control %s: %w", ctl, err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("accept control: %w", err)
		}
		go control(c, rec)
	}
}

func split(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' })
}

// serveTCP tells each client the source it came from and the MSS it
// advertised (after clamping on the way), then holds the
// connection open until the client closes it: capacity tests need every
// connection to stay alive at the same time.
func serveTCP(ln net.Listener, rec *recorder) {
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Printf("sink: accept: %v", err)
			return
		}
		go func() {
			defer c.Close()
			ra := c.RemoteAddr().(*net.TCPAddr)
			la := c.LocalAddr().(*net.TCPAddr)
			rec.add(Observation{Proto: "tcp", Src: ra.IP.String(), Port: uint16(ra.Port), Dport: uint16(la.Port)})
			if _, err := fmt.Fprintf(c, "src=%s mss=%d\n", ra, mss(c.(*net.TCPConn))); err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, c)
		}()
	}
}

// mss is the connection's sending MSS (TCP_MAXSEG): what the peer
// advertised after any clamping on the way, less TCP options. The VM test
// checks that the CE clamps it to the tunnel's MTU. 0 when unknown.
func mss(c *net.TCPConn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	v := 0
	_ = rc.Control(func(fd uintptr) {
		v, _ = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG)
	})
	return v
}

// serveUDP answers every datagram with the source it came from, padded to
// the size of the datagram received ("src=ip:port len=N\n" then dots), so
// large datagrams test fragmentation in both directions.
func serveUDP(pc net.PacketConn, rec *recorder) {
	lport := uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			log.Printf("sink: udp read: %v", err)
			return
		}
		ua := addr.(*net.UDPAddr)
		rec.add(Observation{Proto: "udp", Src: ua.IP.String(), Port: uint16(ua.Port), Dport: lport})
		_, _ = pc.WriteTo(udpAnswer(ua, n), addr)
	}
}

// udpAnswer is the reply to a datagram of size n from ua.
func udpAnswer(ua *net.UDPAddr, n int) []byte {
	b := []byte(fmt.Sprintf("src=%s len=%d\n", ua, n))
	for len(b) < n {
		b = append(b, '.')
	}
	return b
}

// recordICMP notes the identifier of each echo request; the kernel sends
// the reply itself.
func recordICMP(pc net.PacketConn, rec *recorder) {
	buf := make([]byte, 2048)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			log.Printf("sink: icmp read: %v", err)
			return
		}
		if n < 8 || buf[0] != 8 { // echo request only
			continue
		}
		id := uint16(buf[4])<<8 | uint16(buf[5])
		rec.add(Observation{Proto: "icmp", Src: addr.String(), Port: id})
	}
}

func control(c net.Conn, rec *recorder) {
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return
	}
	switch strings.TrimSpace(line) {
	case "take":
		_ = json.NewEncoder(c).Encode(rec.take())
	case "ping":
		_, _ = io.WriteString(c, strconv.Quote("pong")+"\n")
	default:
		_, _ = fmt.Fprintf(c, "{\"error\":%q}\n", "unknown command")
	}
}
