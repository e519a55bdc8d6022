package main

import (
	"testing"

	"github.com/mapehelper/mapehelper/vmtest/internal/portset"
)

func TestParseSrc(t *testing.T) {
	tests := []struct {
		in      string
		src     string
		port    uint16
		mss     int
		wantErr bool
	}{
		{in: "src=14.8.52.86:6016\n", src: "14.8.52.86", port: 6016},
		{in: "src=14.8.52.86:6016 mss=1408\n", src: "14.8.52.86", port: 6016, mss: 1408},
		{in: "src=1.2.3.4:65535 other=1", src: "1.2.3.4", port: 65535},
		{in: "src=1.2.3.4:1 mss=x", wantErr: true},
		{in: "hello", wantErr: true},
		{in: "", wantErr: true},
		{in: "src=nonsense", wantErr: true},
	}
	for _, tt := range tests {
		r, err := parseSrc(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseSrc(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (r.src != tt.src || r.port != tt.port || r.serverMSS != tt.mss) {
			t.Errorf("parseSrc(%q) = %q, %d, mss %d; want %q, %d, mss %d", tt.in, r.src, r.port, r.serverMSS, tt.src, tt.port, tt.mss)
		}
	}
}

func TestTally(t *testing.T) {
	set, err := portset.Parse("6016-6031")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                            string
		exp                             expect
		srcs                            []string
		ports                           []uint16
		distinct, inSet, outOf, wrongIP int
	}{
		{"all in", expect{set, "14.8.52.86"}, []string{"14.8.52.86", "14.8.52.86"}, []uint16{6016, 6031}, 2, 2, 0, 0},
		{"duplicate port counted once", expect{set, ""}, []string{"a", "b"}, []uint16{6020, 6020}, 1, 1, 0, 0},
		{"outside and wrong source", expect{set, "14.8.52.86"}, []string{"10.0.0.1", "14.8.52.86"}, []uint16{6032, 6016}, 2, 1, 1, 1},
		{"no expectation", expect{}, []string{"x"}, []uint16{1}, 1, 1, 0, 0},
	}
	for _, tt := range tests {
		var r Report
		tt.exp.tally(&r, tt.srcs, tt.ports)
		if r.Distinct != tt.distinct || r.InSet != tt.inSet || r.OutOfSet != tt.outOf || r.WrongSrc != tt.wrongIP {
			t.Errorf("%s: got distinct %d in %d out %d wrong %d", tt.name, r.Distinct, r.InSet, r.OutOfSet, r.WrongSrc)
		}
	}
}

func TestChecksum(t *testing.T) {
	b := echoRequest(0x1234, 1)
	if checksum(b) != 0 {
		t.Errorf("checksum over a packet with its checksum = %#x, want 0", checksum(b))
	}
}

// FuzzParseSrc checks that any answer parseSrc accepts names a real
// address and that it never panics on what a server might send.
func FuzzParseSrc(f *testing.F) {
	for _, s := range []string{"src=14.8.52.86:6016 mss=1408\n", "src=1.2.3.4:1", "", "src=", "src=[::1]:1 mss=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseSrc(s)
		if err != nil {
			return
		}
		if r.src == "" {
			t.Fatalf("parseSrc(%q) accepted an empty source", s)
		}
	})
}
