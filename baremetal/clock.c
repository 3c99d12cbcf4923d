/*
 * clock.c — TSC calibration against the 8254 PIT (Intel 8254 data sheet;
 * PC port 0x61 bit 0 = channel 2 gate, bit 1 = speaker, bit 5 = channel 2
 * OUT).  Channel 2 in mode 0 (interrupt on terminal count): OUT goes high
 * when the count reaches zero.
 */
#include "baremetal/clock.h"
#include "baremetal/cpu.h"
#include "port.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xb0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define CAL_MS 20u

static uint64_t tsc_hz;
static uint64_t tsc_base;
static uint64_t ns_mult; /* ns = (ticks * ns_mult) >> 32 */

static int measure(uint64_t *ticks)
{
	uint16_t count = (uint16_t)(PIT_HZ * CAL_MS / 1000u);
	outb(PORT_B, (uint8_t)((inb(PORT_B) & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	outb(PIT_CMD, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2, (uint8_t)count);
	outb(PIT_CH2, (uint8_t)(count >> 8));
	uint64_t t0 = rdtsc();
	for (uint64_t spins = 0; !(inb(PORT_B) & PORT_B_OUT2); spins++)
		if (spins > 100000000ull)
			return -PORT_EIO;
	*ticks = rdtsc() - t0;
	return 0;
}

int clock_init(void)
{
	uint64_t best = ~0ull;
	for (int i = 0; i < 3; i++) { /* the shortest run had the least interference */
		uint64_t t;
		int r = measure(&t);
		if (r)
			return r;
		if (t < best)
			best = t;
	}
	if (best == 0)
		return -PORT_EIO;
	tsc_hz = best * (1000u / CAL_MS);
	ns_mult = (1000000000ull << 32) / tsc_hz;
	tsc_base = rdtsc();
	return 0;
}

uint64_t clock_ns(void)
{
	unsigned __int128 t = (unsigned __int128)(rdtsc() - tsc_base) * ns_mult;
	return (uint64_t)(t >> 32);
}

uint64_t clock_tsc_hz(void) { return tsc_hz; }

void clock_delay_us(uint64_t us)
{
	uint64_t end = clock_ns() + us * 1000u;
	while (clock_ns() < end)
		cpu_pause();
}
