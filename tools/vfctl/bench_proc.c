/*
 * bench_proc.c — `vfctl bench`'s child processes and small system reads: every
 * child is ours, in a process group of its own, ended by its PID.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/vfctl/bench.h"

static int put_text(const char *path, const char *text, const char *mode);

volatile sig_atomic_t bench_interrupted;

/* Start argv with stdin /dev/null and stdout+stderr appended to `log`, in a
 * process group of its own. */
pid_t bench_spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setpgid(0, 0);
	int in = open("/dev/null", O_RDONLY);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0) {
		dup2(out, 1);
		dup2(out, 2);
	}
	execvp(argv[0], argv);
	dprintf(2, "vfctl bench: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait for pid at most `timeout` s; on timeout (or a signal to us) TERM its
 * group, then KILL.  Returns its exit status, or -ETIMEDOUT. */
int bench_reap(pid_t pid, double timeout)
{
	double end = bench_now() + timeout;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0)
			return -ECHILD;
		if (bench_now() > end || bench_interrupted)
			break;
		usleep(20 * 1000);
	}
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	for (int i = 0; i < 250 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(20 * 1000);
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		/* bounded: a child stuck in the kernel (D state) must not hang the bench */
		for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++)
			usleep(20 * 1000);
	}
	return -ETIMEDOUT;
}

/* Run argv to its end (at most `timeout` s), its command line logged first. */
int bench_run(double timeout, const char *log, char *const argv[])
{
	FILE *f = fopen(log, "a");
	if (f) {
		fputs("+", f);
		for (int i = 0; argv[i]; i++)
			fprintf(f, " %s", argv[i]);
		fputc('\n', f);
		fclose(f);
	}
	pid_t pid = bench_spawn(argv, log);
	return pid < 0 ? -errno : bench_reap(pid, timeout);
}

/* A shell line of our own making (a pipeline), logged first. */
int bench_sh(double timeout, const char *log, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	return bench_run(timeout, log, argv);
}

bool bench_in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *save, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", d, name);
		if (access(out, X_OK) == 0)
			return true;
	}
	out[0] = '\0';
	return false;
}

/* The (first) network interface of a PCI device, in our namespace. */
bool bench_netdev_of(const char *bdf, char *out, size_t len)
{
	char dir[96];
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/net", bdf);
	out[0] = '\0';
	DIR *d = opendir(dir);
	if (!d)
		return false;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' && strlen(e->d_name) < len) {
			strcpy(out, e->d_name);
			break;
		}
	closedir(d);
	return out[0] != '\0';
}

/* The last component of a symlink's target (a driver's or a device's name). */
bool bench_link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	out[0] = '\0';
	if (n < 0)
		return false;
	buf[n] = '\0';
	const char *base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strlen(base) >= len)
		return false;
	strcpy(out, base);
	return true;
}

int bench_write_file(const char *path, const char *text) { return put_text(path, text, "w"); }
int bench_append_file(const char *path, const char *text) { return put_text(path, text, "a"); }

static int put_text(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);
	if (!f)
		return -errno;
	int rc = fputs(text, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_note(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}
