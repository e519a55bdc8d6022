# Benchmark (issue 6): ours (mapehelper up) vs the stock rule shape vs
# per-port numgen SNAT, in vmtest's VM with a port-set-enforcing BR.
#   make bench      full run: TCP capacity (240, 1008), occupancy 50/90/99 %,
#                   UDP/ICMP capacity; table + bench/results.json
#   make bench-ci   (in TEST_TARGETS, ~2.5 min) reduced run with assertions (ours >= whole port set,
#                   zero BR drops, ours >= per-port at 90 % occupancy)
#   test 3 (many destinations, bench/guest/manydst.sh): 10 000 short TCP
#                   connections (FIN close) to 50 server addresses per shape,
#                   masquerade with the BR's port check off as the baseline;
#                   stock is left out (16 ports per destination cannot carry
#                   200 connections in conntrack's 120 s TIME_WAIT: ~9 000
#                   connect timeouts, 15 min). bench-ci: 2 000 connections in
#                   4 alternating rounds of masq and ours; asserts ours 100 %
#                   and zero BR drops; ours >= 0.95 x masq is an INFO line
#                   (0.67-1.21 over runs of one build on a loaded host: too
#                   noisy); 263 s in the guest under load, hence -t 600.
.PHONY: bench bench-ci bench-lint
BENCH_MANYDST    = vmtest.mdn=10000 vmtest.mdshapes=masq,ours,perport
BENCH_CI_MANYDST = vmtest.mdn=2000 vmtest.mdrounds=4 vmtest.mdshapes=masq,ours
TEST_TARGETS += bench-ci

bench: bench-lint
	sh bench/vm.sh -t 2400 $(BENCH_MANYDST)

bench-ci: bench-lint
	VMTEST_WORK=$(CURDIR)/build/bench-ci-vm sh bench/vm.sh -t 600 -o build/bench-ci.json vmtest.shapes=ours,perport vmtest.occ=90 vmtest.benchci=1 vmtest.applyn=5 $(BENCH_CI_MANYDST)

bench-lint:
	shellcheck -x bench/vm.sh bench/table.sh bench/guest/*.sh
