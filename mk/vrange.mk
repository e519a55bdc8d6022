# The "one virtual range" design (docs/bench.md), measured natively against
# the shipped rules; not the product's rules yet, so not a pass/fail test.
#   make bench-vrange   (root, host kernel) run both shapes, v6plus and OCN;
#                       writes bench/vrange-results.json and docs/bench.md's table
#   make vrange-check   (in TEST_TARGETS) docs/bench.md's table is what the
#                       results file gives
.PHONY: bench-vrange vrange-table vrange-check
TEST_TARGETS += vrange-check

bench-vrange:
	sh bench/vrange.sh bench/vrange-results.json
	$(MAKE) vrange-table

vrange-table:
	sh bench/vrange-table.sh --write docs/bench.md

vrange-check:
	shellcheck bench/vrange.sh bench/vrange-table.sh
	sh bench/vrange-table.sh --check docs/bench.md
