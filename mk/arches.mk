# Target architectures (docs/arches.md): mipsel_24kc, arm_cortex-a9_vfpv3-d16,
# aarch64, x86_64.
#   make arches-build        static cross builds with the ipk's Go settings, sizes
#   make test-qemu-user      unit tests of every package under qemu-user, per arch
#   make vmtest-arm64        the VM data-plane test on Debian's arm64 kernel
#   make vmtest-armhf        ... on the armmp kernel (qemu virt, Cortex-A15)
#   make vmtest-mipsel       ... on the 4kc-malta kernel (qemu Malta, 24Kc)
#   make vmtest-s390x        ... on the s390x kernel: the big-endian run
#                            (needs qemu-system-misc, not in CI's apt list)
#   make vm-unit-PROFILE     the unit tests that need root and netns (which
#                            qemu-user cannot run) as root in that VM
#   make test-arches         all of the above plus the amd64 VM test
#   make arches-ci           CI's share (in TEST_TARGETS): builds and vets every
#                            arch, runs every foreign router arch's unit tests
#                            under qemu-user and its VM data-plane test, and the
#                            root-only unit tests in the amd64 VM: every run,
#                            so a red arch shows the same day for everyone
# Foreign kernels, busybox, ip and nft come from Debian packages unpacked
# into ARCHES_CACHE (outside the repository) by scripts/arches/fetch.sh.

ARCHES          ?= mipsel_24kc arm_cortex-a9_vfpv3-d16 aarch64 x86_64 s390x
ARCHES_VMS      ?= arm64 armhf mipsel s390x
ARCHES_CACHE    ?= /var/tmp/mapehelper-arches
ARCHES_WORK     ?= $(BUILD)/arches
# The foreign arches CI proves on every run (s390x, no router target, is
# left to `make test-arches`: Debian's s390x emulator is not in CI's apt list).
ARCHES_CI_VMS   := arm64 armhf mipsel
# The qemu-user arch of each VM profile.
ARCHES_USER_arm64  := aarch64
ARCHES_USER_armhf  := arm_cortex-a9_vfpv3-d16
ARCHES_USER_mipsel := mipsel_24kc
ARCHES_USER_s390x  := s390x
# Hard limits (seconds) for one VM run under TCG on 2 cores.
VMTEST_LIMIT_arm64  ?= 600
VMTEST_LIMIT_armhf  ?= 900
VMTEST_LIMIT_mipsel ?= 1200
VMTEST_LIMIT_s390x  ?= 900

export ARCHES_CACHE

TEST_TARGETS += arches-ci

.PHONY: arches-lint arches-build test-qemu-user test-arches arches-ci $(addprefix test-qemu-user-,$(ARCHES)) \
	$(addprefix vmtest-,$(ARCHES_VMS)) $(addprefix arches-fetch-,$(ARCHES_VMS)) \
	$(addprefix vm-unit-,$(ARCHES_VMS) x86_64)

arches-lint:
	shellcheck -x scripts/arches/*.sh vmtest/arch/*.sh

arches-build:
	sh scripts/arches/build.sh $(ARCHES_WORK)/bin $(ARCHES)

$(addprefix test-qemu-user-,$(ARCHES)): test-qemu-user-%:
	sh scripts/arches/qemu-user-test.sh $(ARCHES_WORK) $*

# One arch after the other: each run takes both cores.
test-qemu-user:
	@for a in $(ARCHES); do $(MAKE) --no-print-directory test-qemu-user-$$a || exit 1; done

$(addprefix arches-fetch-,$(ARCHES_VMS)): arches-fetch-%:
	sh scripts/arches/fetch.sh $(ARCHES_CACHE)/$* $*

$(addprefix vmtest-,$(ARCHES_VMS)): vmtest-%: arches-fetch-%
	sh vmtest/run.sh -a $* -t $(VMTEST_LIMIT_$*)

$(addprefix vm-unit-,$(ARCHES_VMS)): vm-unit-%: arches-fetch-%
	sh scripts/arches/vm-unit.sh $(ARCHES_WORK) $* $(VMTEST_LIMIT_$*)

# x86_64 is the amd64 profile in its own work directory: the host's kernel.
vm-unit-x86_64:
	sh scripts/arches/vm-unit.sh $(ARCHES_WORK) x86_64 900

test-arches: arches-lint arches-build test-qemu-user vmtest vm-unit-x86_64
	@for a in $(ARCHES_VMS); do $(MAKE) --no-print-directory vmtest-$$a vm-unit-$$a || exit 1; done

# Left to right, one step after the other (make without -j): each VM run
# takes both cores.
arches-ci: arches-lint arches-build \
	$(foreach v,$(ARCHES_CI_VMS),test-qemu-user-$(ARCHES_USER_$(v)) vmtest-$(v)) vm-unit-x86_64
