/*
 * assign_registry.c — which guest holds which VF.  See assign_registry.h.
 */
#include "sriov/linux/assign_registry.h"
#include "sriov/linux/sriov_sysfs.h"
#include "sriov/linux/sysfs_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Claims this process holds: the lock's fd stays open (and locked) until
 * assign_registry_remove or exit.  A vfctl process holds one; tests a few. */
#define HELD_MAX 16
static struct held {
	char bdf[PCI_BDF_LEN];
	char guest[ASSIGN_GUEST_LEN];
	int fd; /* 0 = free slot (fd 0 is never a lock: stdin is open) */
} held[HELD_MAX];

/* Busy retries: 10 x 10 ms, long enough to outlast a reader's probe. */
#define BUSY_TRIES 10
#define BUSY_SLEEP_MS 10
#define RECORD_MAX 512

const char *assign_registry_dir(void)
{
	const char *env = getenv("VFSTACK_ASSIGN_DIR");
	return env && env[0] ? env : ASSIGN_REGISTRY_DIR;
}

int assign_registry_parse(const char *buf, size_t len, char guest[ASSIGN_GUEST_LEN], pid_t *pid)
{
	if (!buf || !guest || !pid)
		return -EINVAL;
	guest[0] = '\0';
	bool have_guest = false, have_pid = false;
	uint64_t p = 0;
	size_t at = 0;
	while (at < len) {
		const char *line = buf + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at;
		at += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (memchr(line, '\0', n))
			return -EINVAL;
		if (n >= 6 && !memcmp(line, "guest=", 6)) {
			size_t g = n - 6;
			if (g == 0 || g >= ASSIGN_GUEST_LEN)
				return -EINVAL;
			memcpy(guest, line + 6, g);
			guest[g] = '\0';
			have_guest = true;
		} else if (n >= 4 && !memcmp(line, "pid=", 4)) {
			if (sysfs_parse_uint(line + 4, n - 4, 10, INT_MAX, &p) || p == 0)
				return -EINVAL;
			have_pid = true;
		}
	}
	if (!have_guest || !have_pid) {
		guest[0] = '\0';
		return -EINVAL;
	}
	*pid = (pid_t)p;
	return 0;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The registry names files after VFs: only a canonical BDF may be one. */
static bool valid_bdf(const char *bdf)
{
	char c[PCI_BDF_LEN];
	return bdf && pci_bdf_parse(bdf, c) == 0 && strcmp(c, bdf) == 0;
}

static void record_path(char *p, size_t len, const char *bdf)
{
	sriov_fmt(p, len, "%s/%s", assign_registry_dir(), bdf);
}

static void lock_path(char *p, size_t len, const char *bdf)
{
	sriov_fmt(p, len, "%s/.%s.lock", assign_registry_dir(), bdf);
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

static int read_record(const char *bdf, char guest[ASSIGN_GUEST_LEN], pid_t *pid)
{
	char p[PATH_MAX], buf[RECORD_MAX];
	record_path(p, sizeof(p), bdf);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return assign_registry_parse(buf, (size_t)n, guest, pid);
}

/* 1 when some open file holds the VF's lock, 0 when the lock file exists
 * but nobody holds it, -ENOENT when there is no lock file. */
static int lock_state(const char *bdf)
{
	char p[PATH_MAX];
	lock_path(p, sizeof(p), bdf);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int st = 1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		st = 0;
	} else if (errno != EWOULDBLOCK) {
		st = -errno;
	}
	close(fd);
	return st;
}

/* The holder of a held lock: its record, waiting out the moment between a
 * claimer's lock and its rename; "" and 0 when it does not appear. */
static void held_by(const char *bdf, char *guest, size_t len, pid_t *pid)
{
	char name[ASSIGN_GUEST_LEN] = "";
	pid_t who = 0;
	for (int i = 0; i < BUSY_TRIES && read_record(bdf, name, &who); i++) {
		name[0] = '\0';
		who = 0;
		sleep_ms(BUSY_SLEEP_MS);
	}
	if (guest && len)
		sriov_fmt(guest, len, "%s", name);
	if (pid)
		*pid = who;
}

int assign_registry_lookup(const char *vf_bdf, char *guest, size_t guest_len, pid_t *pid)
{
	if (!valid_bdf(vf_bdf))
		return -ENOENT;
	int st = lock_state(vf_bdf);
	if (st == 1) {
		held_by(vf_bdf, guest, guest_len, pid);
		return 0;
	}
	char name[ASSIGN_GUEST_LEN];
	pid_t holder;
	/* No lock file: a record written by hand or by an older vfctl. */
	if (st == -ENOENT && read_record(vf_bdf, name, &holder) == 0 && pid_alive(holder)) {
		if (guest)
			sriov_fmt(guest, guest_len, "%s", name);
		if (pid)
			*pid = holder;
		return 0;
	}
	return -ENOENT;
}

static struct held *find_held(const char *bdf)
{
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i].fd > 0 && !strcmp(held[i].bdf, bdf))
			return &held[i];
	return NULL;
}

static int write_record(const char *bdf, const char *guest)
{
	char p[PATH_MAX], tmp[PATH_MAX];
	record_path(p, sizeof(p), bdf);
	sriov_fmt(tmp, sizeof(tmp), "%s/.%s.%ld", assign_registry_dir(), bdf, (long)getpid());
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "guest=%s\npid=%ld\n", guest, (long)getpid());
	int err = 0;
	if (fclose(f) != 0 || rename(tmp, p) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* Take the VF's lock: the fd (>0), -EBUSY, or -errno.  *created says this
 * call made the lock file (so no lock-aware holder was ever there). */
static int take_lock(const char *bdf, bool *created)
{
	char p[PATH_MAX];
	lock_path(p, sizeof(p), bdf);
	for (int tries = 0; tries < BUSY_TRIES; tries++) {
		*created = false;
		int fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0 && errno == EEXIST)
				continue; /* another claimer made it first: open that one */
			*created = fd >= 0;
		}
		if (fd < 0)
			return -errno;
		if (fd == 0) { /* keep 0 free as the table's "no claim" */
			int moved = fcntl(fd, F_DUPFD_CLOEXEC, 1);
			close(fd);
			if (moved < 0)
				return -errno;
			fd = moved;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			if (e != EWOULDBLOCK)
				return -e;
			sleep_ms(BUSY_SLEEP_MS);
			continue;
		}
		/* A releasing holder unlinks the file: the lock must be on the
		 * file the path names now, or two claimers could both win. */
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(p, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	return -EBUSY;
}

int assign_registry_claim(const char *vf_bdf, const char *guest, char *holder, size_t holder_len,
			  pid_t *holder_pid)
{
	if (holder && holder_len)
		holder[0] = '\0';
	if (holder_pid)
		*holder_pid = 0;
	if (!valid_bdf(vf_bdf) || !guest || !guest[0] || strlen(guest) >= ASSIGN_GUEST_LEN ||
	    strpbrk(guest, "\r\n"))
		return -EINVAL;
	struct held *h = find_held(vf_bdf);
	if (h) {
		if (!strcmp(h->guest, guest))
			return 0;
		if (holder)
			sriov_fmt(holder, holder_len, "%s", h->guest);
		if (holder_pid)
			*holder_pid = getpid();
		return -EBUSY;
	}
	struct held *slot = NULL;
	for (int i = 0; i < HELD_MAX && !slot; i++)
		if (held[i].fd <= 0)
			slot = &held[i];
	if (!slot)
		return -ENOSPC;
	int err = make_dir(assign_registry_dir());
	if (err)
		return err;
	bool created;
	int fd = take_lock(vf_bdf, &created);
	if (fd == -EBUSY)
		held_by(vf_bdf, holder, holder_len, holder_pid);
	if (fd < 0)
		return fd;
	char lp[PATH_MAX], name[ASSIGN_GUEST_LEN];
	pid_t other;
	lock_path(lp, sizeof(lp), vf_bdf);
	/* A live record from before locks (no lock file until now) still holds. */
	if (created && read_record(vf_bdf, name, &other) == 0 && other != getpid() && pid_alive(other)) {
		if (holder)
			sriov_fmt(holder, holder_len, "%s", name);
		if (holder_pid)
			*holder_pid = other;
		err = -EBUSY;
	}
	if (!err)
		err = write_record(vf_bdf, guest);
	if (err) {
		if (created)
			unlink(lp);
		close(fd);
		return err;
	}
	sriov_fmt(slot->bdf, sizeof(slot->bdf), "%s", vf_bdf);
	sriov_fmt(slot->guest, sizeof(slot->guest), "%s", guest);
	slot->fd = fd;
	return 0;
}

int assign_registry_remove(const char *vf_bdf)
{
	if (!valid_bdf(vf_bdf))
		return -EINVAL;
	char p[PATH_MAX];
	record_path(p, sizeof(p), vf_bdf);
	int err = unlink(p) < 0 && errno != ENOENT ? -errno : 0;
	struct held *h = find_held(vf_bdf);
	if (h) {
		/* Unlink while still holding: a claimer that opened the old file
		 * finds it is no longer the path's and retries (take_lock). */
		lock_path(p, sizeof(p), vf_bdf);
		unlink(p);
		close(h->fd);
		*h = (struct held){ .fd = 0 };
	}
	return err;
}
