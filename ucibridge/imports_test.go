package ucibridge

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsStdlibOnly keeps ucibridge the UCI reader and nothing else:
// its non-test files import only the standard library, so it cannot grow
// knowledge of MAP options (package options) or tunnel devices (package
// tunnel) again. Tests may import more.
func TestImportsStdlibOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.GoFiles) == 0 {
		t.Fatal("no Go files found: the check would pass vacuously")
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") { // a module path, not the standard library
			t.Errorf("ucibridge imports %s: the UCI reader must stand alone (the option mapping lives in package options)", imp)
		}
	}
}
