/* vmm_glue/boot_linux: the boot protocol fields, e820 and the MP table a
 * guest kernel reads, laid into a RAM buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm_glue/boot_linux.h"

#define RAM (128u << 20)

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* A bzImage as the boot protocol describes it: boot sector + 1 setup sector,
 * setup header "HdrS" 2.15, LOADED_HIGH, then protected-mode code. */
static uint8_t *fake_bzimage(size_t *len, uint16_t version)
{
	*len = 1024 + 8192;
	uint8_t *k = calloc(1, *len);
	k[0x1f1] = 1;
	k[0x1fe] = 0x55; k[0x1ff] = 0xaa;
	k[0x200] = 0xeb; k[0x201] = 0x66;
	memcpy(k + 0x202, "HdrS", 4);
	k[0x206] = (uint8_t)version; k[0x207] = (uint8_t)(version >> 8);
	k[0x211] = 0x01;
	k[0x22c] = 0xff; k[0x22d] = 0xff; k[0x22e] = 0xff; k[0x22f] = 0x7f;
	k[0x238] = 0xff; k[0x239] = 0x07;
	for (size_t i = 1024; i < *len; i++)
		k[i] = (uint8_t)(i * 7);
	return k;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void loads_kernel_cmdline_initrd_e820_and_mptable(void **state)
{
	(void)state;
	size_t klen;
	uint8_t *k = fake_bzimage(&klen, 0x20f);
	uint8_t initrd[5000];
	memset(initrd, 0xa5, sizeof(initrd));
	uint8_t *ram = calloc(1, RAM);
	struct boot_linux_image img = { k, klen, initrd, sizeof(initrd), "console=ttyS0 quiet", 2,
					0xfec00000, 0xfee00000 };
	struct boot_linux_entry e;
	char why[128] = "";
	assert_int_equal(boot_linux_load(ram, RAM, &img, &e, why, sizeof(why)), 0);
	assert_int_equal(e.eip, 0x100000);
	assert_int_equal(e.esi, BOOT_PARAMS_GPA);
	const uint8_t *bp = ram + BOOT_PARAMS_GPA;
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(bp[0x210], 0xff);                       /* type_of_loader */
	assert_int_equal(rd32(bp + 0x228), BOOT_CMDLINE_GPA);    /* cmd_line_ptr */
	assert_string_equal((char *)ram + BOOT_CMDLINE_GPA, "console=ttyS0 quiet");
	assert_int_equal(rd32(bp + 0x218), e.initrd_gpa);        /* ramdisk_image */
	assert_int_equal(rd32(bp + 0x21c), sizeof(initrd));
	assert_int_equal(e.initrd_gpa % 4096, 0);
	assert_true(e.initrd_gpa + sizeof(initrd) <= RAM);
	assert_memory_equal(ram + e.initrd_gpa, initrd, sizeof(initrd));
	assert_memory_equal(ram + 0x100000, k + 1024, klen - 1024);
	/* e820: 4 entries, RAM from 1 MiB to the end. */
	assert_int_equal(bp[0x1e8], 4);
	const uint8_t *last = bp + 0x2d0 + 3 * 20;
	assert_int_equal(rd64(last), 0x100000);
	assert_int_equal(rd64(last + 8), RAM - 0x100000);
	assert_int_equal(rd32(last + 16), 1);
	/* MP floating pointer and table (MP spec 1.4): checksums, entries. */
	const uint8_t *fp = ram + BOOT_MPTABLE_GPA;
	assert_memory_equal(fp, "_MP_", 4);
	assert_int_equal(sum(fp, 16), 0);
	const uint8_t *t = ram + rd32(fp + 4);
	assert_memory_equal(t, "PCMP", 4);
	uint16_t tlen = (uint16_t)(t[4] | t[5] << 8), count = (uint16_t)(t[34] | t[35] << 8);
	assert_int_equal(sum(t, tlen), 0);
	assert_int_equal(count, 2 + 2 + 1 + 16 + 2);
	assert_int_equal(rd32(t + 36), 0xfee00000);
	assert_int_equal(t[44], 0);             /* processor 0 ... */
	assert_int_equal(t[44 + 3], 0x03);      /* ... enabled, the BSP */
	assert_int_equal(t[64 + 3], 0x01);      /* processor 1 enabled, not BSP */
	free(ram);
	free(k);
}

static void refuses_what_it_cannot_boot(void **state)
{
	(void)state;
	size_t klen;
	uint8_t *ram = calloc(1, RAM);
	struct boot_linux_entry e;
	char why[128];
	uint8_t *k = fake_bzimage(&klen, 0x204);
	struct boot_linux_image img = { k, klen, NULL, 0, "", 1, 0xfec00000, 0xfee00000 };
	assert_int_equal(boot_linux_load(ram, RAM, &img, &e, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "2.06"));
	memcpy(k + 0x202, "XXXX", 4);
	assert_int_equal(boot_linux_load(ram, RAM, &img, &e, why, sizeof(why)), -ENOEXEC);
	assert_non_null(strstr(why, "not a bzImage"));
	free(k);
	k = fake_bzimage(&klen, 0x20f);
	img.kernel = k;
	img.initrd = ram;           /* any bytes: what matters is the size */
	img.initrd_len = RAM - (1u << 20);
	assert_int_equal(boot_linux_load(ram, RAM, &img, &e, why, sizeof(why)), -E2BIG);
	assert_non_null(strstr(why, "initrd"));
	free(k);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_kernel_cmdline_initrd_e820_and_mptable),
		cmocka_unit_test(refuses_what_it_cannot_boot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
