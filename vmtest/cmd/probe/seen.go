package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// observation mirrors the sink's JSON.
type observation struct {
	Proto string `json:"proto"`
	Src   string `json:"src"`
	Port  uint16 `json:"port"`
	Dport uint16 `json:"dport"`
}

// takeObservations asks the sink for everything it saw since last time.
func takeObservations(ctl string) ([]observation, error) {
	c, err := net.DialTimeout("tcp", ctl, 3*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connect to sink control: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(c, "take"); err != nil {
		return nil, fmt.Errorf("ask sink: %w", err)
	}
	var obs []observation
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&obs); err != nil {
		return nil, fmt.Errorf("read sink answer: %w", err)
	}
	return obs, nil
}

// runSeen judges what the server saw: N is the number of observations
// (of proto, when given), and the port fields count distinct source ports
// or echo identifiers against the expected set.
func runSeen(ctl, proto string, exp expect) Report {
	obs, err := takeObservations(ctl)
	if err != nil {
		return Report{Fail: 1, Err: err.Error()}
	}
	var r Report
	var srcs []string
	var ports []uint16
	for _, o := range obs {
		if proto != "" && o.Proto != proto {
			continue
		}
		srcs = append(srcs, o.Src)
		ports = append(ports, o.Port)
	}
	r.N = len(ports)
	r.OK = r.N
	exp.tally(&r, srcs, ports)
	return r
}
