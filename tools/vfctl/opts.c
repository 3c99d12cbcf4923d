/*
 * opts.c — one message for every getopt_long failure (vfctl.h).
 */
#include "tools/vfctl/vfctl.h"

#include <getopt.h>
#include <string.h>

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
