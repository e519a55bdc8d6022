package ucibridge

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkParse reads a typical router's /etc/config/network (ten
// sections, about 60 lines): the cost `mapehelper up --config` and
// `status` pay on every call.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/network")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("network", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
