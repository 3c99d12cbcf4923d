/*
 * opts.c — one message for every getopt_long failure (vfctl.h).
 */
#include "tools/vfctl/vfctl.h"

#include <getopt.h>
#include <string.h>

#define MAX_FLAGS 8

int vfctl_opt_error(const struct vfctl_cmd *cmd, int c, char **argv)
{
	/* getopt_long has already advanced optind past the bad word. */
	const char *word = optind > 0 ? argv[optind - 1] : "";
	if (c == ':')
		return vfctl_usage_error(cmd, "option '%s' needs a value", word);
	if (optopt && strncmp(word, "--", 2) != 0)
		return vfctl_usage_error(cmd, "there is no option '-%c'", optopt);
	/* "--name=value": name only the option. */
	char name[64];
	size_t l = strcspn(word, "=");
	if (l >= sizeof(name))
		l = sizeof(name) - 1;
	memcpy(name, word, l);
	name[l] = '\0';
	if (optopt)
		return vfctl_usage_error(cmd, "option '%s' takes no value", name);
	return vfctl_usage_error(cmd, "there is no option '%s'", name);
}

int vfctl_parse_flags(const struct vfctl_cmd *cmd, int argc, char **argv, const struct vfctl_flag *flags,
		      char ***args, int *nargs)
{
	struct option opts[MAX_FLAGS + 1];
	char shorts[2 * MAX_FLAGS + 2] = ":";
	size_t n = 0, sl = 1;
	for (; flags[n].name && n < MAX_FLAGS; n++) {
		opts[n] = (struct option){ flags[n].name, no_argument, NULL, flags[n].letter };
		shorts[sl++] = flags[n].letter;
	}
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	shorts[sl] = '\0';
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		size_t i = 0;
		while (i < n && flags[i].letter != c)
			i++;
		if (i == n)
			return vfctl_opt_error(cmd, c, argv);
		*flags[i].set = true;
	}
	*args = argv + optind;
	*nargs = argc - optind;
	return VFCTL_OK;
}
