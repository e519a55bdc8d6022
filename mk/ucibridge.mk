# ucibridge (UCI reader): extra targets. Its unit tests and the fuzz
# targets FuzzParse / FuzzNetifdJSON already run in `make unit` and
# `make fuzz`, so nothing is added to TEST_TARGETS here.
#
#   make ucibridge-libuci     differential test against OpenWrt's real uci(1):
#                             UCI_BIN=/path/to/uci, or OWRT_SRC=DIR holding the
#                             libubox and uci source trees (built into
#                             build/libuci, about 35 s). Manual: CI cannot fetch
#                             those sources. UCI_GOLDEN_WRITE=1 also rewrites
#                             ucibridge/testdata/libuci-golden.jsonl.gz, uci's
#                             recorded answers that `make unit` replays.
#   make ucibridge-fuzz-long  both fuzz targets for UCI_FUZZTIME each (default 5m)
#   make ucibridge-bench      Parse benchmarks

UCI_PREFIX   ?= $(CURDIR)/$(BUILD)/libuci
UCI_FUZZTIME ?= 5m
UCI_DIFF_N   ?= 20000

.PHONY: ucibridge-libuci ucibridge-fuzz-long ucibridge-bench

ucibridge-libuci:
	@if [ -z "$(UCI_BIN)" ]; then \
	  test -n "$(OWRT_SRC)" || { echo 'set UCI_BIN to a uci binary, or OWRT_SRC to a directory with the libubox and uci source trees'; exit 2; }; \
	  sh ucibridge/testdata/build-uci.sh "$(OWRT_SRC)" "$(UCI_PREFIX)"; \
	fi
	UCI_BIN="$${UCI_BIN:-$(UCI_PREFIX)/bin/uci}" UCI_DIFF_N=$(UCI_DIFF_N) UCI_GOLDEN_WRITE=$(UCI_GOLDEN_WRITE) \
	  LD_LIBRARY_PATH="$$(dirname "$${UCI_BIN:-$(UCI_PREFIX)/bin/uci}")/../lib$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" \
	  $(GO) test -count=1 -tags libuci -run 'TestLibuci' -v ./ucibridge/

ucibridge-fuzz-long:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(UCI_FUZZTIME) ./ucibridge/
	$(GO) test -run='^$$' -fuzz='^FuzzNetifdJSON$$' -fuzztime=$(UCI_FUZZTIME) ./options/

ucibridge-bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./ucibridge/
