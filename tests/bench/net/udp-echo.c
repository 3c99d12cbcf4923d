/*
 * udp-echo.c — vfs-udpecho: the bench's request-response test (docs/bench.md), a tiny
 * static program in the testbed host (/usr/local/bin) and in the bench's guests.
 *   vfs-udpecho serve PORT          echo every datagram back to its sender, until killed
 *   vfs-udpecho ping HOST PORT N    N round trips, one 32-byte datagram in flight
 *                                   (after 5 not counted), each waiting at most 1 s;
 *                                   prints "rtt n=N lost=L min=X median=Y p99=Z" (µs)
 * Exit status: 0, 1 on an error (one sentence on stderr), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WARM 5

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int serve(int port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "vfs-udpecho: cannot bind UDP port %d: %s.\n", port, strerror(errno));
		return 1;
	}
	for (;;) {
		char buf[2048];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n >= 0)
			sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

static int ping(const char *host, int port, int count)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "vfs-udpecho: %s is not an IPv4 address.\n", host);
		return 1;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "vfs-udpecho: cannot reach %s:%d: %s.\n", host, port, strerror(errno));
		return 1;
	}
	double *rtt = calloc((size_t)count, sizeof(double));
	if (!rtt)
		return 1;
	int got = 0, lost = 0;
	for (unsigned seq = 0; seq < (unsigned)(count + WARM); seq++) {
		char msg[32] = { 0 }, back[64];
		memcpy(msg, &seq, sizeof(seq));
		double t0 = now_us();
		if (send(s, msg, sizeof(msg), 0) < 0) {
			lost++;
			continue;
		}
		again:;
		struct pollfd p = { .fd = s, .events = POLLIN };
		int left = 1000 - (int)((now_us() - t0) / 1000);
		if (left <= 0 || poll(&p, 1, left) <= 0) {
			if (seq >= WARM)
				lost++;
			continue;
		}
		ssize_t n = recv(s, back, sizeof(back), 0);
		unsigned echo;
		if (n < (ssize_t)sizeof(echo))
			goto again;
		memcpy(&echo, back, sizeof(echo));
		if (echo != seq)
			goto again; /* a late answer to an earlier datagram */
		if (seq >= WARM)
			rtt[got++] = now_us() - t0;
	}
	if (got == 0) {
		fprintf(stderr, "vfs-udpecho: no answer from %s:%d.\n", host, port);
		free(rtt);
		return 1;
	}
	qsort(rtt, (size_t)got, sizeof(double), cmp);
	int p99 = (int)((double)got * 0.99 + 0.5) - 1;
	if (p99 < 0)
		p99 = 0;
	printf("rtt n=%d lost=%d min=%.1f median=%.1f p99=%.1f\n", got, lost, rtt[0],
	       got % 2 ? rtt[got / 2] : (rtt[got / 2 - 1] + rtt[got / 2]) / 2, rtt[p99]);
	free(rtt);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "ping") && atoi(argv[4]) > 0)
		return ping(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: vfs-udpecho serve PORT | vfs-udpecho ping HOST PORT N\n");
	return 2;
}
