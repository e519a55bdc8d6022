// Package ruletable holds the MAP rules of the Japanese IPoE services
// (v6 plus, BIGLOBE IPv6 option, OCN virtual connect) as data, so that a
// user needs only the delegated prefix: the rule is found by longest
// prefix match. The built-in table is the CSV embedded at build time; a
// user-supplied CSV in the same format replaces it (ISPs change rules
// rarely, but they do).
package ruletable

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mapehelper/mapehelper/mapcalc"
)

//go:embed jp-map-rules.csv
var builtinCSV string

// Columns is the header every table must have, in this order.
var columns = []string{"isp", "br", "ip6prefix", "ip6prefixlen", "ip4prefix", "ip4prefixlen", "ealen", "psidlen", "offset"}

// MaxRows bounds a table so a hostile file cannot exhaust memory.
const MaxRows = 100000

// Builtin returns the embedded table. It panics only if the embedded file
// is malformed, which TestBuiltin rules out at build time.
func Builtin() []mapcalc.Rule {
	rules, err := Parse(strings.NewReader(builtinCSV))
	if err != nil {
		panic(fmt.Sprintf("ruletable: embedded table is invalid: %v", err))
	}
	return rules
}

// ErrTable marks every table parsing error.
var ErrTable = errors.New("rule table")

// Parse reads a rule table: lines starting with '#' are comments, the
// first other line is the header (see columns), every further line one
// rule. All rules use the legacy interface-id layout (all listed services
// do). Errors name the line and column.
func Parse(r io.Reader) ([]mapcalc.Rule, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(columns)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrTable, err)
	}
	for i, c := range columns {
		if strings.TrimSpace(header[i]) != c {
			return nil, fmt.Errorf("%w: header column %d is %q, want %q (header: %s)", ErrTable, i+1, header[i], c, strings.Join(columns, ","))
		}
	}
	var rules []mapcalc.Rule
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTable, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rules) >= MaxRows {
			return nil, fmt.Errorf("%w: line %d: more than %d rules", ErrTable, line, MaxRows)
		}
		rule, err := parseRow(rec)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrTable, line, err)
		}
		rules = append(rules, rule)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%w: no rules", ErrTable)
	}
	return rules, nil
}

func parseRow(rec []string) (mapcalc.Rule, error) {
	ints := make([]int, 0, 5)
	for _, i := range []int{3, 5, 6, 7, 8} {
		n, err := strconv.Atoi(strings.TrimSpace(rec[i]))
		if err != nil || n < 0 || n > 128 {
			return mapcalc.Rule{}, fmt.Errorf("column %s: %q is not a length", columns[i], rec[i])
		}
		ints = append(ints, n)
	}
	p6len, p4len, ealen, psidlen, offset := ints[0], ints[1], ints[2], ints[3], ints[4]
	br, err := netip.ParseAddr(strings.TrimSpace(rec[1]))
	if err != nil || !br.Is6() || br.Zone() != "" {
		return mapcalc.Rule{}, fmt.Errorf("column br: %q is not an IPv6 address", rec[1])
	}
	a6, err := netip.ParseAddr(strings.TrimSpace(rec[2]))
	if err != nil || !a6.Is6() || a6.Zone() != "" || p6len > 64 {
		return mapcalc.Rule{}, fmt.Errorf("column ip6prefix: %q/%d is not an IPv6 prefix", rec[2], p6len)
	}
	a4, err := netip.ParseAddr(strings.TrimSpace(rec[4]))
	if err != nil || !a4.Is4() || p4len > 32 {
		return mapcalc.Rule{}, fmt.Errorf("column ip4prefix: %q/%d is not an IPv4 prefix", rec[4], p4len)
	}
	isp := strings.TrimSpace(rec[0])
	if isp == "" {
		return mapcalc.Rule{}, errors.New("column isp is empty")
	}
	rule := mapcalc.Rule{
		Type:      mapcalc.TypeMAPE,
		ISP:       isp,
		IP6Prefix: netip.PrefixFrom(a6, p6len).Masked(),
		IP4Prefix: netip.PrefixFrom(a4, p4len).Masked(),
		EALen:     ealen,
		PSIDLen:   psidlen,
		Offset:    offset,
		PSID:      -1,
		BR:        br,
		Legacy:    true,
	}
	if err := mapcalc.Check(rule); err != nil {
		return mapcalc.Rule{}, err
	}
	return rule, nil
}
