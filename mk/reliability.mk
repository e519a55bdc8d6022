# Reliability (issue 8): the fw4 life cycle, faults, router-originated
# traffic, port forwarding and a soak, run in vmtest's VM with the real
# mapehelper (reliability/vm.sh, scenario reliability/guest/); long fuzzing.
#   make reliability             lint + the bounded VM run (in TEST_TARGETS)
#   make reliability-known-bugs  just the parts that caught the data-plane bugs
#                                (rejected re-up, kill while moving the prefix,
#                                flow across a prefix change); fixed, and part of
#                                RELIABILITY_PARTS since
#   make soak                    the 30-minute soak (SOAK_SECONDS)
#   make fuzz-long               every Fuzz* target for FUZZ_EXECS executions
RELIABILITY_PARTS      ?= modules,lifecycle,rejected,kills,killsmove,concurrent,linkflap,prefix,prefixflow,router,portfwd,fwdstatus,ipv4flow,fw4lock,window,soak
RELIABILITY_KNOWN_BUGS ?= rejected,killsmove,prefixflow
RELIABILITY_KILLS      ?= 50
RELIABILITY_SOAK       ?= 120
SOAK_SECONDS           ?= 1800
FUZZ_EXECS             ?= 1000000

.PHONY: reliability reliability-lint reliability-vm reliability-known-bugs soak fuzz-long
TEST_TARGETS += reliability

reliability: reliability-lint reliability-vm

reliability-lint:
	shellcheck -x reliability/vm.sh reliability/fuzz-long.sh reliability/guest/*.sh

reliability-vm:
	sh reliability/vm.sh -t 1200 vmtest.rel=$(RELIABILITY_PARTS) vmtest.kills=$(RELIABILITY_KILLS) vmtest.soak=$(RELIABILITY_SOAK)

reliability-known-bugs:
	sh reliability/vm.sh -t 420 vmtest.rel=$(RELIABILITY_KNOWN_BUGS) vmtest.kills=10

soak:
	sh reliability/vm.sh -t $$(($(SOAK_SECONDS) + 240)) vmtest.rel=soak vmtest.soak=$(SOAK_SECONDS)

fuzz-long:
	bash reliability/fuzz-long.sh $(FUZZ_EXECS)
