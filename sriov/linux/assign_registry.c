/*
 * assign_registry.c — which guest holds which VF.  See assign_registry.h.
 */
#include "sriov/linux/assign_registry.h"
#include "sriov/linux/sriov_sysfs.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *assign_registry_dir(void)
{
	const char *env = getenv("VFSTACK_ASSIGN_DIR");
	return env && env[0] ? env : ASSIGN_REGISTRY_DIR;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* mkdir -p for the registry directory. */
static int make_dir(const char *dir)
{
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int assign_registry_lookup(const char *vf_bdf, char *guest, size_t guest_len, pid_t *pid)
{
	char p[PATH_MAX], line[256], name[ASSIGN_GUEST_LEN] = "";
	long holder = 0;
	sriov_fmt(p, sizeof(p), "%s/%s", assign_registry_dir(), vf_bdf);
	FILE *f = fopen(p, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "guest=", 6) == 0)
			sriov_fmt(name, sizeof(name), "%s", line + 6);
		else if (strncmp(line, "pid=", 4) == 0)
			holder = strtol(line + 4, NULL, 10);
	}
	fclose(f);
	if (!name[0] || holder <= 0 || holder > INT_MAX || !pid_alive((pid_t)holder))
		return -ENOENT;
	if (guest)
		sriov_fmt(guest, guest_len, "%s", name);
	if (pid)
		*pid = (pid_t)holder;
	return 0;
}

int assign_registry_write(const char *vf_bdf, const char *guest, pid_t pid)
{
	if (!vf_bdf || !guest || !guest[0] || strchr(guest, '\n') || pid <= 0)
		return -EINVAL;
	pid_t other;
	if (assign_registry_lookup(vf_bdf, NULL, 0, &other) == 0 && other != pid)
		return -EBUSY;
	const char *dir = assign_registry_dir();
	int err = make_dir(dir);
	if (err)
		return err;
	char p[PATH_MAX], tmp[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/%s", dir, vf_bdf);
	sriov_fmt(tmp, sizeof(tmp), "%s/.%s.%ld", dir, vf_bdf, (long)getpid());
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "guest=%s\npid=%ld\n", guest, (long)pid);
	if (fclose(f) != 0) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	if (rename(tmp, p) < 0) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

int assign_registry_remove(const char *vf_bdf)
{
	char p[PATH_MAX];
	sriov_fmt(p, sizeof(p), "%s/%s", assign_registry_dir(), vf_bdf);
	if (unlink(p) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
