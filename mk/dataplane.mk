# Data plane (tunnel, firewall4, dataplane, `mapehelper up/down`): its tests
# need root, ip and nft because they load real rules in throw-away network
# namespaces. Under CI=true a missing tool fails them (see dataplane/nstest).
# The host kernel has no ip6_tunnel: there the tunnel tests check the error
# kind and the rollback; the VM test (vmtest/) runs the full cycle.

.PHONY: dataplane-test dataplane-demo
TEST_TARGETS += dataplane-test

dataplane-test:
	$(GO) test -count=1 ./tunnel/... ./firewall4/... ./dataplane/...
	$(GO) test -count=1 -run 'TestUp' ./cmd/mapehelper/

# The README demo: what `up` would do for the v6plus seed prefix.
dataplane-demo:
	$(GO) run ./cmd/mapehelper up --interface wan_mape --link wan --prefix 240b:12:3456:7800::/56 --dry-run
