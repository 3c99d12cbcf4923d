# tools/install.mk — `make install` / `make uninstall` (PREFIX, DESTDIR).
#
#   make install                        under /usr/local
#   make install PREFIX=/usr            as a distribution package would
#   make install DESTDIR=/tmp/stage     staged (packaging, tests)
#
# Installs vfctl and vfs-vmm, the man page, the bash completion, the systemd
# unit (its ExecStart rewritten to $(BINDIR)/vfctl) and the udev rule that
# restarts the unit when a PF's driver binds.  Directories the tools search:
# systemd looks in /usr/local/lib/systemd/system as well as /usr/lib/…, and
# bash-completion in $XDG_DATA_DIRS (/usr/local/share first); udev reads only
# /usr/lib/udev/rules.d and /etc/udev/rules.d, so under any PREFIX but /usr
# the rule goes to /etc/udev/rules.d.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
INSTALL ?= install

INSTALLED_FILES = $(BINDIR)/vfctl $(BINDIR)/vfs-vmm $(MANDIR)/man1/vfctl.1 \
	$(BASHCOMPDIR)/vfctl $(UNITDIR)/vfstack-vfs.service $(UDEVRULESDIR)/90-vfstack-vfs.rules

.PHONY: install uninstall test-install
install: $(BUILD)/bin/vfctl $(BUILD)/bin/vfs-vmm
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(BASHCOMPDIR)" \
		"$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(UDEVRULESDIR)"
	$(INSTALL) -m 755 $(BUILD)/bin/vfctl $(BUILD)/bin/vfs-vmm "$(DESTDIR)$(BINDIR)/"
	$(INSTALL) -m 644 docs/vfctl.1 "$(DESTDIR)$(MANDIR)/man1/vfctl.1"
	$(INSTALL) -m 644 tools/vfctl/vfctl.bash-completion "$(DESTDIR)$(BASHCOMPDIR)/vfctl"
	sed 's|/usr/local/bin/vfctl|$(BINDIR)/vfctl|g' docs/vfstack-vfs.service >"$(DESTDIR)$(UNITDIR)/vfstack-vfs.service.tmp"
	chmod 644 "$(DESTDIR)$(UNITDIR)/vfstack-vfs.service.tmp"
	mv "$(DESTDIR)$(UNITDIR)/vfstack-vfs.service.tmp" "$(DESTDIR)$(UNITDIR)/vfstack-vfs.service"
	$(INSTALL) -m 644 docs/90-vfstack-vfs.rules "$(DESTDIR)$(UDEVRULESDIR)/90-vfstack-vfs.rules"
	@[ -n "$(DESTDIR)" ] || echo "installed; now: systemctl daemon-reload && udevadm control --reload && systemctl enable vfstack-vfs.service"

# Removes exactly the files install put there; directories stay (they are
# shared: /usr/local/bin, /etc/udev/rules.d…).
uninstall:
	rm -f $(addprefix "$(DESTDIR),$(addsuffix ",$(INSTALLED_FILES)))

# Stage an install into a temporary DESTDIR under two PREFIXes and check it.
SUITES += install
test-install: $(BUILD)/bin/vfctl $(BUILD)/bin/vfs-vmm
	@tests/lib/run-suite install 120 -- tests/install/check-install
