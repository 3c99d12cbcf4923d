/*
 * vfctl — SR-IOV and VF passthrough, one command.  The dispatch table.
 */
#include "tools/vfctl/vfctl.h"

#include <stdio.h>
#include <string.h>

/* One line per subcommand; keep the order `vfctl --help` shows. */
static const struct vfctl_cmd *const commands[] = {
	&vfctl_cmd_list,
	&vfctl_cmd_sriov,
	&vfctl_cmd_vf,
	&vfctl_cmd_bind,
	&vfctl_cmd_release,
	&vfctl_cmd_assign,
	&vfctl_cmd_bench,
	&vfctl_cmd_apply,
	&vfctl_cmd_doctor,
	&vfctl_cmd_status,
	&vfctl_cmd_stats,
	&vfctl_cmd_export,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_overview(FILE *f)
{
	fprintf(f, "usage: vfctl [--help] [--version] COMMAND [ARGS...]\n\n"
		   "SR-IOV virtual functions on this host: create them, configure them,\n"
		   "hand them to guests.  Commands:\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\n'vfctl COMMAND --help' describes one command.  Exit status: 0 ok,\n"
		   "1 the operation failed (nothing was changed unless it says so), 2 bad\n"
		   "usage or input, 3 the device is busy or in use, 4 no such device.\n");
}

static const struct vfctl_cmd *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return VFCTL_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_overview(stdout);
		return VFCTL_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("vfctl (vfstack) 0.1\n");
		return VFCTL_OK;
	}
	if (strcmp(name, "help") == 0) {
		const struct vfctl_cmd *c = argc > 2 ? find(argv[2]) : NULL;
		if (argc > 2 && !c) {
			fprintf(stderr, "vfctl: there is no command '%s'; 'vfctl --help' lists them.\n", argv[2]);
			return VFCTL_USAGE;
		}
		if (c)
			fputs(c->usage, stdout);
		else
			print_overview(stdout);
		return VFCTL_OK;
	}
	const struct vfctl_cmd *cmd = find(name);
	if (!cmd) {
		fprintf(stderr, "vfctl: there is no command '%s'; 'vfctl --help' lists them.\n", name);
		return VFCTL_USAGE;
	}
	if (wants_help(argc - 1, argv + 1)) {
		fputs(cmd->usage, stdout);
		return VFCTL_OK;
	}
	return cmd->run(argc - 1, argv + 1);
}
