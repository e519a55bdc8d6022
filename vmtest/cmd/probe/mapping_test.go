package main

import "testing"

func TestJudgeMapping(t *testing.T) {
	tests := []struct {
		name                 string
		seen                 [][]uint16
		bound                []uint16
		ok, fail, kept, pres int
	}{
		{"all kept", [][]uint16{{6018, 6018, 6018}, {7000, 7000, 7000}}, []uint16{6018}, 2, 0, 2, 1},
		{"one port per destination", [][]uint16{{7000, 7001, 7002}}, nil, 1, 0, 0, 0},
		{"bound port not preserved", [][]uint16{{6020, 6020, 6020}}, []uint16{6018}, 1, 0, 1, 0},
		{"missing answer", [][]uint16{{7000, 7000}}, nil, 0, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Report
			judgeMapping(&r, tt.seen, tt.bound, 3)
			if r.OK != tt.ok || r.Fail != tt.fail || r.Kept != tt.kept || r.Preserved != tt.pres {
				t.Errorf("ok %d fail %d kept %d preserved %d; want %d %d %d %d", r.OK, r.Fail, r.Kept, r.Preserved, tt.ok, tt.fail, tt.kept, tt.pres)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	if p, err := parsePorts("9001, 9002,9003"); err != nil || len(p) != 3 || p[2] != 9003 {
		t.Errorf("parsePorts = %v, %v", p, err)
	}
	for _, bad := range []string{"", "0", "9001,x", "70000"} {
		if _, err := parsePorts(bad); err == nil {
			t.Errorf("parsePorts(%q) accepted", bad)
		}
	}
}
