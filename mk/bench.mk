# Benchmark (issue 6): ours (mapehelper up) vs the stock rule shape vs
# per-port numgen SNAT, in vmtest's VM with a port-set-enforcing BR.
#   make bench      full run: TCP capacity (240, 1008), occupancy 50/90/99 %,
#                   UDP/ICMP capacity; table + bench/results.json
#   make bench-ci   (in TEST_TARGETS, ~65 s) reduced run with assertions (ours >= whole port set,
#                   zero BR drops, ours >= per-port at 90 % occupancy)
.PHONY: bench bench-ci bench-lint
TEST_TARGETS += bench-ci

bench: bench-lint
	sh bench/vm.sh -t 1800

bench-ci: bench-lint
	VMTEST_WORK=$(CURDIR)/build/bench-ci-vm sh bench/vm.sh -t 420 -o build/bench-ci.json vmtest.shapes=ours,perport vmtest.occ=90 vmtest.benchci=1 vmtest.applyn=5

bench-lint:
	shellcheck -x bench/vm.sh bench/table.sh bench/guest/*.sh
