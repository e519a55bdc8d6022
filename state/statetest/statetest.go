// Package statetest holds state files recorded from earlier versions of
// mapehelper, for the tests of every package that reads them: a router
// upgraded while an interface is up keeps such a file on tmpfs. They are
// embedded, so test binaries run elsewhere (the VM of `make vm-unit-*`)
// carry them. Only tests import this package.
package statetest

import _ "embed" // the recorded files

// V0Up is the record of an up of the v6plus seed prefix
// (240b:12:3456:7800::/56, link wan0) as dataplane.State of commit
// fe855e0 wrote it: layout version 0, no "version", "ttl" or "encaplimit".
//
//go:embed testdata/v0-up.json
var V0Up []byte

// V0SettingUp is the "setting-up" record of the same version for an up to
// 240b:12:3457:7900::/56 killed after its first write: the seed's CE is in
// "stale_ce".
//
//go:embed testdata/v0-setting-up.json
var V0SettingUp []byte
