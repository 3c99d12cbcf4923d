/*
 * vfs-nocap — run a command without CAP_IPC_LOCK (dropped from the bounding,
 * effective, permitted and inheritable sets), so RLIMIT_MEMLOCK applies to it
 * even as root: how the assign suite shows the "too little memlock" error.
 *   vfs-nocap COMMAND [ARGS...]
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vfs-nocap COMMAND [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) != 0) {
		perror("vfs-nocap: PR_CAPBSET_DROP");
		return 1;
	}
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0) {
		perror("vfs-nocap: capget");
		return 1;
	}
	unsigned w = CAP_IPC_LOCK / 32, bit = 1u << (CAP_IPC_LOCK % 32);
	data[w].effective &= ~bit;
	data[w].permitted &= ~bit;
	data[w].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data) != 0) {
		perror("vfs-nocap: capset");
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "vfs-nocap: cannot run %s\n", argv[1]);
	return 127;
}
