/* tools/vfctl/json.c, the parser `vfctl apply` reads its file with: it takes
 * exactly RFC 8259's numbers (strtod alone would also take 012, 0x1f, inf,
 * nan and "1."), and refuses a \u0000 that a C string would cut short. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tools/vfctl/vfctl.h"

static void refuses(const char *text, const char *why)
{
	int line = 0;
	const char *err = NULL;
	struct json_val *v = json_parse(text, &line, &err);
	if (v)
		fail_msg("json_parse accepted %s", text);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("json_parse refused %s with \"%s\", expected \"%s\"", text, err, why);
	assert_int_equal(line, 1);
}

static double number(const char *text)
{
	int line = 0;
	const char *err = NULL;
	struct json_val *v = json_parse(text, &line, &err);
	if (!v)
		fail_msg("json_parse refused %s (%s)", text, err);
	assert_int_equal(v->type, JSON_NUM);
	double d = v->num;
	json_free(v);
	return d;
}

static void takes_rfc8259_numbers(void **state)
{
	(void)state;
	assert_true(number("0") == 0);
	assert_true(number("-0") == 0);
	assert_true(number("7") == 7);
	assert_true(number("4094") == 4094);
	assert_true(number("2.5") == 2.5);
	assert_true(number("-1.25e2") == -125);
	assert_true(number("1E+2") == 100);
	assert_true(number("5e-1") == 0.5);
	assert_true(number(" 10 ") == 10);
}

static void refuses_what_only_strtod_takes(void **state)
{
	(void)state;
	refuses("012", "a bad number");
	refuses("099", "a bad number");
	refuses("0x1f", "a bad number");
	refuses("-inf", "a bad number");
	refuses("-nan", "a bad number");
	refuses("1.", "a bad number");
	refuses("1.e5", "a bad number");
	refuses("1e", "a bad number");
	refuses("-", "a bad number");
	refuses("1.5.2", "a bad number");
	refuses("{\"num_vfs\": 012}", "a bad number");
}

static void refuses_nul_in_strings(void **state)
{
	(void)state;
	refuses("{\"driver\": \"vfio-pci\\u0000/../../x\"}", "NUL");
	int line = 0;
	const char *err = NULL;
	struct json_val *v = json_parse("\"a\\u00e9\\u0041\"", &line, &err);
	assert_non_null(v);
	assert_string_equal(v->str, "a\xc3\xa9" "A");
	json_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(takes_rfc8259_numbers),
		cmocka_unit_test(refuses_what_only_strtod_takes),
		cmocka_unit_test(refuses_nul_in_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
