// Package reliability holds the host-side reliability tests of mapehelper:
// hostile command-line and stdin input to the real binary, and a broken
// rule model checked by the real nft before fw4 could read it. The
// kernel-level scenarios (fw4 life cycle, kill -9, concurrency, link and
// prefix changes, port forwarding, soak) run in vmtest's VM from guest/,
// driven by vm.sh; the fault injector they use is cmd/chaos.
package reliability
