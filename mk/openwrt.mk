# OpenWrt packaging (docs/openwrt.md).
#   make ipk                 cross-compile the static binary and assemble ipk
#                            files into build/ipk, as the SDK's ipkg-build would,
#                            and apk files into build/ipk/apk (OpenWrt 25.x)
#   make openwrt-pkgtools    build OpenWrt's opkg-lede and apk-tools 3 from
#                            ../shared/openwrt-pkgtools into PKGTOOLS (a cache
#                            outside the repository; idempotent, ~1 s when built)
#   make openwrt-pkg         install as a user would, with those real tools, in
#                            a scratch router root: stock map first, the README's
#                            steps, a refused stock install, upgrade, removal;
#                            package scripts really run; every IPK_ARCHS, ipk
#                            and apk; plus the negative controls
#   make openwrt-ipk-test    build them, then check layout, control fields,
#                            modes, agreement with openwrt/Makefile, and run
#                            each packaged binary (qemu-user for foreign CPUs)
#   make openwrt-vm          the packaged handler with the real mapehelper and
#                            real kernel objects in vmtest's VM (recorder as
#                            netifd; traffic, prefix change, teardown, errors)
# The netifd handler tests (openwrt/test, no build tag) run with `make unit`.
# Manual check against OpenWrt's netifd built from source:
#   make openwrt-real-netifd NETIFD_PREFIX="dir…" NETIFD_SCRIPTS=dir

IPK_ARCHS   ?= mipsel_24kc arm_cortex-a9_vfpv3-d16 aarch64_cortex-a72 aarch64_generic x86_64
IPK_VERSION ?= $(shell sed -n 's/^PKG_VERSION:=//p' openwrt/Makefile)-r$(shell sed -n 's/^PKG_RELEASE:=//p' openwrt/Makefile)
# The upgrade target of openwrt-pkg: the same sources one release later.
IPK_NEXT    := $(IPK_VERSION)9
PKGTOOLS_SRC  ?= $(CURDIR)/../shared/openwrt-pkgtools
PKGTOOLS      ?= /var/tmp/mapehelper-pkgtools
OPENWRT_FILES ?= $(CURDIR)/../shared/openwrt-userland/src/openwrt-files.tar.gz

# Shell files the top-level lint does not pick up (no .sh suffix, or bash).
OPENWRT_SHELL := openwrt/ipk/build.sh openwrt/ipk/postinst-mapehelper openwrt/ipk/postinst-luci \
	openwrt/ipk/prerm-mapehelper openwrt/test/vm.sh \
	openwrt/test/fake/recorder.sh openwrt/test/fake/jsonfilter openwrt/test/fake/ubus

.PHONY: ipk openwrt-ipk-test openwrt-handler-test openwrt-lint
openwrt-lint:
	shellcheck -x $(OPENWRT_SHELL)
	shellcheck -x openwrt/test/vm/openwrt-handler.sh

# build.sh installs the Debian packages it needs when run as root.
.PHONY: openwrt-pkgtools
openwrt-pkgtools:
	@test -f "$(PKGTOOLS_SRC)/build.sh" || { echo "openwrt-pkgtools: no $(PKGTOOLS_SRC)/build.sh (set PKGTOOLS_SRC)"; exit 1; }
	sh "$(PKGTOOLS_SRC)/build.sh" "$(PKGTOOLS)" >/dev/null

ipk: openwrt-pkgtools
	APK="$(PKGTOOLS)/bin/apk" bash openwrt/ipk/build.sh $(BUILD)/ipk $(IPK_VERSION) $(IPK_ARCHS)

openwrt-ipk-test: ipk
	IPK_DIR="$(CURDIR)/$(BUILD)/ipk" IPK_VERSION="$(IPK_VERSION)" IPK_ARCHS="$(IPK_ARCHS)" \
		$(GO) test -count=1 -tags ipkcheck -run 'TestIPK|TestMakefile' ./openwrt/test/

openwrt-handler-test:
	$(GO) test -count=1 ./openwrt/test/

.PHONY: openwrt-vm
openwrt-vm:
	sh openwrt/test/vm.sh -t 300

.PHONY: openwrt-real-netifd
openwrt-real-netifd: build
	NETIFD_SCRIPTS="$(NETIFD_SCRIPTS)" sh openwrt/test/real-netifd.sh $(NETIFD_PREFIX) -- $(BUILD)/mapehelper

# Every architecture with both package managers, then the negative controls
# (x86_64, each a next release with one defect): without the prerm the
# removal leaves the tables; with Conflicts: map the upgrade and the
# --force-reinstall after a refused stock install fail; without post-upgrade apk's upgrade reloads nothing;
# and, installed first, a prerm without its PKG_UPGRADE check takes the
# interfaces down when opkg upgrades it.
PKG_TEST = OPENWRT_FILES="$(OPENWRT_FILES)" sh openwrt/test/pkg-install.sh
.PHONY: openwrt-pkg
openwrt-pkg: ipk
	APK="$(PKGTOOLS)/bin/apk" bash openwrt/ipk/build.sh $(BUILD)/ipk-next $(IPK_NEXT) $(IPK_ARCHS) >/dev/null
	@for a in $(IPK_ARCHS); do for f in opkg apk; do \
		$(PKG_TEST) $$f "$(PKGTOOLS)" $(BUILD)/ipk $(BUILD)/ipk-next $(IPK_VERSION) $(IPK_NEXT) $$a >$(BUILD)/pkg-$$f-$$a.log 2>&1; \
		rc=$$?; tail -1 $(BUILD)/pkg-$$f-$$a.log | sed "s/^/$$f $$a: /"; \
		[ $$rc -eq 0 ] || { grep '^FAIL' $(BUILD)/pkg-$$f-$$a.log; exit 1; }; \
	done; done
	@for neg in noprerm conflicts nopostupgrade; do \
		NEGATIVE=$$neg BINARIES=$(BUILD)/ipk-next/bin APK="$(PKGTOOLS)/bin/apk" \
			bash openwrt/ipk/build.sh $(BUILD)/ipk-neg-$$neg $(IPK_NEXT) x86_64 >/dev/null || exit 1; \
	done
	@for n in noprerm:opkg:'removal deleted the nftables tables' noprerm:apk:'removal deleted the nftables tables' \
		conflicts:opkg:'upgrade to;binary in place after the reinstall' nopostupgrade:apk:'upgrade reran the post-install part'; do \
		neg=$${n%%:*}; rest=$${n#*:}; f=$${rest%%:*}; want=$${rest#*:}; \
		EXPECT_FAIL="$$want" $(PKG_TEST) $$f "$(PKGTOOLS)" $(BUILD)/ipk $(BUILD)/ipk-neg-$$neg $(IPK_VERSION) $(IPK_NEXT) x86_64 \
			>$(BUILD)/pkg-neg-$$neg-$$f.log 2>&1 || { tail -3 $(BUILD)/pkg-neg-$$neg-$$f.log; exit 1; }; \
		echo "negative control $$neg ($$f): '$$want' fails, as it must"; \
	done
	@NEGATIVE=noupgradeguard BINARIES=$(BUILD)/ipk/bin APK="$(PKGTOOLS)/bin/apk" \
		bash openwrt/ipk/build.sh $(BUILD)/ipk-neg-noupgradeguard $(IPK_VERSION) x86_64 >/dev/null
	@EXPECT_FAIL='upgrade kept both interfaces up' $(PKG_TEST) opkg "$(PKGTOOLS)" $(BUILD)/ipk-neg-noupgradeguard $(BUILD)/ipk-next \
		$(IPK_VERSION) $(IPK_NEXT) x86_64 >$(BUILD)/pkg-neg-noupgradeguard-opkg.log 2>&1 || { tail -3 $(BUILD)/pkg-neg-noupgradeguard-opkg.log; exit 1; }
	@echo "negative control noupgradeguard (opkg): 'upgrade kept both interfaces up' fails, as it must"

TEST_TARGETS += openwrt-lint openwrt-ipk-test openwrt-vm openwrt-pkg
