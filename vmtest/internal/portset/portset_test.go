package portset

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		size    int
		wantErr bool
	}{
		{in: "", want: "", size: 0},
		{in: "6016-6031", want: "6016-6031", size: 16},
		{in: "6016-6031,10112-10127", want: "6016-6031,10112-10127", size: 32},
		{in: " 80 , 443-444 ", want: "80-80,443-444", size: 3},
		{in: "1-10,5-12", want: "1-10,5-12", size: 12},
		{in: "10-1", wantErr: true},
		{in: "70000", wantErr: true},
		{in: "a-b", wantErr: true},
		{in: "1-", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if got.String() != tt.want || got.Size() != tt.size {
			t.Errorf("Parse(%q) = %q size %d, want %q size %d", tt.in, got, got.Size(), tt.want, tt.size)
		}
	}
}

func TestContains(t *testing.T) {
	s, err := Parse("6016-6031,10112-10127")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p    uint16
		want bool
	}{{6015, false}, {6016, true}, {6031, true}, {6032, false}, {10120, true}, {65535, false}, {0, false}}
	for _, tt := range tests {
		if got := s.Contains(tt.p); got != tt.want {
			t.Errorf("Contains(%d) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// FuzzParse checks that whatever Parse accepts formats back to a string
// that parses to the same set.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "1-2", "6016-6031,10112-10127", "80", " 1 , 2-3", "9-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(set.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q fails: %v", s, set.String(), err)
		}
		if again.String() != set.String() {
			t.Fatalf("round trip %q -> %q -> %q", s, set.String(), again.String())
		}
		for _, r := range set {
			if !set.Contains(r.Lo) || !set.Contains(r.Hi) {
				t.Fatalf("set %q does not contain its own bounds", set)
			}
		}
	})
}
