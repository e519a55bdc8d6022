//go:build ipkcheck

package handlertest

// Checks the ipk files that `make ipk` built (run by `make openwrt-ipk-test`,
// which sets IPK_DIR, IPK_VERSION and IPK_ARCHS): the layout current
// opkg-lede accepts, the control fields in ipkg-build's order, file modes,
// agreement with openwrt/Makefile's install sections, and that each packaged
// binary is static for the right CPU and runs (qemu-user for foreign ones).

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ipkArch describes how to recognise and run one OpenWrt architecture's binary.
type ipkArch struct {
	machine elf.Machine
	class   elf.Class
	runner  []string // command prefix; empty: run natively
}

var ipkArches = map[string]ipkArch{
	"mipsel_24kc":             {elf.EM_MIPS, elf.ELFCLASS32, []string{"qemu-mipsel-static"}},
	"arm_cortex-a9_vfpv3-d16": {elf.EM_ARM, elf.ELFCLASS32, []string{"qemu-arm-static", "-cpu", "cortex-a9"}},
	"aarch64_cortex-a72":      {elf.EM_AARCH64, elf.ELFCLASS64, []string{"qemu-aarch64-static", "-cpu", "cortex-a72"}},
	"aarch64_generic":         {elf.EM_AARCH64, elf.ELFCLASS64, []string{"qemu-aarch64-static"}},
	"x86_64":                  {elf.EM_X86_64, elf.ELFCLASS64, nil},
}

// controlOrder is ipkg-build's field order.
var controlOrder = []string{"Package", "Version", "Depends", "Conflicts", "Provides", "Alternatives",
	"Source", "SourceName", "License", "LicenseFiles", "Section", "Require-User", "SourceDateEpoch",
	"URL", "ABIVersion", "CPE-ID", "Maintainer", "Architecture", "Installed-Size", "Description"}

// ipkFile is one regular file or directory inside a tar.
type ipkFile struct {
	mode int64
	dir  bool
	data []byte
}

type ipk struct {
	members []string // outer tar members, in order
	data    map[string]ipkFile
	control map[string]ipkFile
	dataLen int // bytes of the uncompressed data tar
}

func ipkEnv(t *testing.T) (dir, version string, arches []string) {
	t.Helper()
	dir, version = os.Getenv("IPK_DIR"), os.Getenv("IPK_VERSION")
	arches = strings.Fields(os.Getenv("IPK_ARCHS"))
	if dir == "" || version == "" || len(arches) == 0 {
		t.Fatal("IPK_DIR, IPK_VERSION and IPK_ARCHS must be set: run `make openwrt-ipk-test`")
	}
	return dir, version, arches
}

func TestIPKMapehelper(t *testing.T) {
	dir, version, arches := ipkEnv(t)
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			want, ok := ipkArches[arch]
			if !ok {
				t.Fatalf("no expectations for architecture %s", arch)
			}
			p := readIPK(t, filepath.Join(dir, "mapehelper_"+version+"_"+arch+".ipk"))
			fields := checkControl(t, p, map[string]string{
				"Package": "mapehelper", "Version": version, "Architecture": arch,
				"Provides": "map", "Section": "net",
			})
			// A Conflicts: map would block every upgrade after a refused
			// `opkg install map` (docs/openwrt.md); the map.sh clash keeps
			// the two packages apart.
			if c, ok := fields["Conflicts"]; ok {
				t.Errorf("Conflicts: %s; want none", c)
			}
			for _, dep := range []string{"libc", "kmod-ip6-tunnel", "kmod-nft-core", "kmod-nft-nat", "kmod-nf-conntrack-netlink", "kmod-nft-connlimit", "kmod-sched-core"} {
				if !containsWord(fields["Depends"], dep) {
					t.Errorf("Depends %q lacks %s", fields["Depends"], dep)
				}
			}
			checkScripts(t, p, "../ipk/postinst-mapehelper", "../ipk/prerm-mapehelper")
			wantFiles := treeFiles(t, "../files", ".")
			wantFiles["./usr/bin/mapehelper"] = 0o755
			checkFiles(t, p, wantFiles)
			// Executables netifd, rpcd and the user run, whatever git says.
			for _, f := range []string{"./usr/bin/mapehelper", "./lib/netifd/proto/mape.sh",
				"./lib/netifd/proto/map.sh", "./usr/libexec/rpcd/mape"} {
				if m := p.data[f].mode; m != 0o755 {
					t.Errorf("%s mode %o, want 755", f, m)
				}
			}
			checkBinary(t, p.data["./usr/bin/mapehelper"].data, want, version)
		})
	}
}

func TestIPKLuci(t *testing.T) {
	dir, version, _ := ipkEnv(t)
	if _, err := os.Stat("../luci-proto-mape"); err != nil {
		t.Fatalf("openwrt/luci-proto-mape: %v", err)
	}
	p := readIPK(t, filepath.Join(dir, "luci-proto-mape_"+version+"_all.ipk"))
	fields := checkControl(t, p, map[string]string{
		"Package": "luci-proto-mape", "Version": version, "Architecture": "all", "Section": "luci",
	})
	if !containsWord(fields["Depends"], "mapehelper") {
		t.Errorf("Depends %q lacks mapehelper", fields["Depends"])
	}
	checkScripts(t, p, "../ipk/postinst-luci", "")
	checkFiles(t, p, treeFiles(t, "../luci-proto-mape/htdocs", "./www"))
	js := p.data["./www/luci-static/resources/protocol/mape.js"].data
	if !bytes.Contains(js, []byte("registerProtocol('mape'")) && !bytes.Contains(js, []byte(`registerProtocol("mape"`)) {
		t.Errorf("mape.js does not register protocol mape")
	}
}

// TestMakefileInstalls: the SDK recipe installs what `make ipk` packages
// (the binary plus files/, htdocs/ under /www) and builds the same static
// binary.
func TestMakefileInstalls(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	must(t, err)
	for pkg, want := range map[string][]string{
		"mapehelper":      {"$(call GoPackage/Package/Install/Bin,$(1))", "$(CP) ./files/* $(1)/"},
		"luci-proto-mape": {"$(CP) ./luci-proto-mape/htdocs/* $(1)/www/"},
	} {
		body := makefileDefine(t, mk, "Package/"+pkg+"/install")
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("Package/%s/install lacks %q", pkg, w)
			}
		}
	}
	if bytes.Contains(mk, []byte("\n  CONFLICTS:=")) {
		t.Error("openwrt/Makefile declares CONFLICTS: it blocks upgrades after a refused `opkg install map`")
	}
	for _, want := range []string{"GO_PKG_BUILD_VARS+=CGO_ENABLED=0", "-linkmode internal", "PROVIDES:=map",
		"+kmod-ip6-tunnel +kmod-nft-core +kmod-nft-nat +kmod-nf-conntrack-netlink +kmod-nft-connlimit +kmod-sched-core"} {
		if !bytes.Contains(mk, []byte(want)) {
			t.Errorf("openwrt/Makefile lacks %q", want)
		}
	}
}

// TestMakefileScripts: the SDK recipe's package scripts are the ones
// `make ipk` packs and the install tests run (openwrt/ipk/*), with make's
// $$ for $; comment lines may differ.
func TestMakefileScripts(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	must(t, err)
	code := func(s string) string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if !strings.HasPrefix(l, "#") || strings.HasPrefix(l, "#!") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	for def, file := range map[string]string{
		"Package/mapehelper/postinst":      "../ipk/postinst-mapehelper",
		"Package/mapehelper/prerm":         "../ipk/prerm-mapehelper",
		"Package/luci-proto-mape/postinst": "../ipk/postinst-luci",
	} {
		want, err := os.ReadFile(file)
		must(t, err)
		got := strings.ReplaceAll(makefileDefine(t, mk, def), "$$", "$")
		if code(got) != code(string(want)) {
			t.Errorf("%s differs from %s:\n%s", def, file, got)
		}
	}
}

// makefileDefine returns the body of "define NAME" … "endef".
func makefileDefine(t *testing.T, mk []byte, name string) string {
	t.Helper()
	start := "define " + name + "\n"
	i := bytes.Index(mk, []byte(start))
	if i < 0 {
		t.Fatalf("openwrt/Makefile has no %s", name)
	}
	body := mk[i+len(start):]
	return string(body[:bytes.Index(body, []byte("\nendef"))])
}

// treeFiles lists the regular files under dir as data-tar names under
// prefix, with the mode the packages give them: 0755 when executable.
func treeFiles(t *testing.T, dir, prefix string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		out[prefix+"/"+filepath.ToSlash(rel)] = mode
		return nil
	})
	must(t, err)
	if len(out) == 0 {
		t.Fatalf("no files under %s", dir)
	}
	return out
}

func readIPK(t *testing.T, path string) *ipk {
	t.Helper()
	raw, err := os.ReadFile(path)
	must(t, err)
	p := &ipk{}
	outer := readTar(t, path, raw, func(name string) { p.members = append(p.members, name) })
	if want := []string{"./debian-binary", "./data.tar.gz", "./control.tar.gz"}; strings.Join(p.members, " ") != strings.Join(want, " ") {
		t.Fatalf("%s members %q, want %q", path, p.members, want)
	}
	if got := string(outer["./debian-binary"].data); got != "2.0\n" {
		t.Errorf("debian-binary = %q", got)
	}
	p.data = readTar(t, "data.tar.gz", outer["./data.tar.gz"].data, nil)
	p.control = readTar(t, "control.tar.gz", outer["./control.tar.gz"].data, nil)
	zr, err := gzip.NewReader(bytes.NewReader(outer["./data.tar.gz"].data))
	must(t, err)
	n, err := io.Copy(io.Discard, zr)
	must(t, err)
	p.dataLen = int(n)
	return p
}

// readTar reads a gzip-compressed GNU tar and checks what ipkg-build
// guarantees of every entry: "./" names, owner 0/0 without names.
func readTar(t *testing.T, name string, gz []byte, each func(string)) map[string]ipkFile {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("%s: not gzip: %v", name, err)
	}
	if zr.Header.Name != "" || !zr.Header.ModTime.IsZero() {
		t.Errorf("%s: gzip header carries name %q / time %v (gzip -n expected)", name, zr.Header.Name, zr.Header.ModTime)
	}
	tr := tar.NewReader(zr)
	files := map[string]ipkFile{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h.Format != tar.FormatGNU {
			t.Errorf("%s: %s is %v, want GNU tar", name, h.Name, h.Format)
		}
		if !strings.HasPrefix(h.Name, "./") {
			t.Errorf("%s: entry %q lacks the ./ prefix", name, h.Name)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: %s owned by %d/%d %q/%q, want numeric 0/0", name, h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		data, err := io.ReadAll(tr)
		must(t, err)
		files[h.Name] = ipkFile{mode: h.Mode & 0o7777, dir: h.Typeflag == tar.TypeDir, data: data}
		if each != nil {
			each(h.Name)
		}
	}
	return files
}

// checkControl parses ./control, checks field order, Installed-Size and the
// given values, and returns the fields.
func checkControl(t *testing.T, p *ipk, want map[string]string) map[string]string {
	t.Helper()
	c, ok := p.control["./control"]
	if !ok {
		t.Fatal("no ./control")
	}
	fields := map[string]string{}
	var order []string
	for _, line := range strings.Split(strings.TrimSuffix(string(c.data), "\n"), "\n") {
		if strings.HasPrefix(line, " ") {
			if len(order) == 0 || order[len(order)-1] != "Description" {
				t.Errorf("continuation line %q outside Description", line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok || v == "" {
			t.Errorf("control line %q is not 'Field: value'", line)
			continue
		}
		fields[k] = v
		order = append(order, k)
	}
	pos := -1
	for _, k := range order {
		i := indexOf(controlOrder, k)
		if i < 0 {
			t.Errorf("unknown control field %s", k)
		} else if i <= pos {
			t.Errorf("control fields out of ipkg-build's order: %q", order)
		}
		pos = i
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("control %s = %q, want %q", k, fields[k], v)
		}
	}
	if got, want := fields["Installed-Size"], strconv.Itoa(p.dataLen); got != want {
		t.Errorf("Installed-Size %s, want %s (uncompressed data tar)", got, want)
	}
	if fields["Description"] == "" {
		t.Error("no Description")
	}
	return fields
}

// checkScripts: package-pack.mk's postinst/prerm wrappers hand over to
// default_postinst/default_prerm (only the postinst honours
// IPKG_NO_SCRIPT); the package's own scripts are postinst-pkg and prerm-pkg,
// byte for byte the files in openwrt/ipk ("" = the package has none).
func checkScripts(t *testing.T, p *ipk, postinst, prerm string) {
	t.Helper()
	for script, fn := range map[string]string{"./postinst": "default_postinst", "./prerm": "default_prerm"} {
		f, ok := p.control[script]
		if !ok {
			t.Errorf("no %s", script)
			continue
		}
		s := string(f.data)
		noScript := strings.Contains(s, `"${IPKG_NO_SCRIPT}" = "1" ] && exit 0`)
		if f.mode != 0o755 || !strings.HasPrefix(s, "#!/bin/sh\n") || noScript != (fn == "default_postinst") ||
			!strings.Contains(s, "/lib/functions.sh ] || exit 0") || !strings.Contains(s, fn+" $0 $@") {
			t.Errorf("%s (mode %o) is not package-pack.mk's wrapper:\n%s", script, f.mode, s)
		}
	}
	for member, src := range map[string]string{"./postinst-pkg": postinst, "./prerm-pkg": prerm} {
		f, ok := p.control[member]
		if src == "" {
			if ok {
				t.Errorf("unexpected %s", member)
			}
			continue
		}
		want, err := os.ReadFile(src)
		must(t, err)
		if !ok || f.mode != 0o755 || strings.TrimRight(string(f.data), "\n") != strings.TrimRight(string(want), "\n") {
			t.Errorf("%s missing, not 0755 or not %s", member, src)
		}
	}
	for name := range p.control {
		switch name {
		case "./", "./control", "./postinst", "./prerm", "./postinst-pkg", "./prerm-pkg", "./conffiles":
		default:
			t.Errorf("unexpected control member %s", name)
		}
	}
}

// checkFiles: exactly the wanted regular files with the wanted modes, every
// directory 0755, and "./" itself present.
func checkFiles(t *testing.T, p *ipk, want map[string]int64) {
	t.Helper()
	if d, ok := p.data["./"]; !ok || !d.dir {
		t.Error(`data tar lacks "./"`)
	}
	got := map[string]int64{}
	for name, f := range p.data {
		if f.dir {
			if f.mode != 0o755 {
				t.Errorf("directory %s mode %o, want 755", name, f.mode)
			}
			continue
		}
		got[name] = f.mode
	}
	for name, mode := range want {
		if m, ok := got[name]; !ok {
			t.Errorf("missing %s", name)
		} else if m != mode {
			t.Errorf("%s mode %o, want %o", name, m, mode)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected file %s", name)
		}
	}
}

// checkBinary: a static executable for the right CPU that runs `version`
// and computes the seed example correctly (byte order, soft float).
func checkBinary(t *testing.T, bin []byte, want ipkArch, version string) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("binary is not ELF: %v", err)
	}
	if f.Machine != want.machine || f.Class != want.class {
		t.Errorf("binary is %v %v, want %v %v", f.Machine, f.Class, want.machine, want.class)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
			t.Errorf("binary is dynamically linked (%v)", prog.Type)
		}
	}
	path := filepath.Join(t.TempDir(), "mapehelper")
	must(t, os.WriteFile(path, bin, 0o755))
	run := func(args ...string) []byte {
		t.Helper()
		argv := append(append(append([]string{}, want.runner...), path), args...)
		if len(want.runner) > 0 {
			requireTool(t, want.runner[0])
		}
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", argv, err, out)
		}
		return out
	}
	if got, wantOut := strings.TrimSpace(string(run("version"))), "mapehelper "+version; got != wantOut {
		t.Errorf("version printed %q, want %q", got, wantOut)
	}
	var res struct {
		IPv4  string `json:"ipv4"`
		PSID  int    `json:"psid"`
		Ports int    `json:"ports"`
	}
	must(t, json.Unmarshal(run("calc", "--json", "240b:12:3456:7800::/56"), &res))
	if res.IPv4 != "14.8.52.86" || res.PSID != 120 || res.Ports != 240 {
		t.Errorf("calc on the seed prefix gave %+v, want 14.8.52.86 PSID 120, 240 ports", res)
	}
}

func containsWord(list, word string) bool {
	for _, w := range strings.Split(list, ",") {
		if strings.TrimSpace(w) == word {
			return true
		}
	}
	return false
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
