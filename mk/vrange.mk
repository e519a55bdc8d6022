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
	sh bench/doc-block.sh vrange-table docs/bench.md sh bench/vrange-table.sh

# The check writes the block into a copy and compares.
vrange-check:
	shellcheck bench/vrange.sh bench/vrange-table.sh
	@tmp="$$(mktemp)"; cp docs/bench.md "$$tmp"; \
	  sh bench/doc-block.sh vrange-table "$$tmp" sh bench/vrange-table.sh && \
	  diff -u docs/bench.md "$$tmp"; rc=$$?; rm -f "$$tmp"; \
	  [ $$rc = 0 ] || { echo "vrange-check: docs/bench.md's table differs from bench/vrange-results.json; run make vrange-table" >&2; exit 1; }
