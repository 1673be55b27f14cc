/*
 * A C client of Kcov.NET's control endpoint (docs/control-protocol.md), built with the kernel's
 * own <linux/kcov.h>: its ioctl numbers and struct kcov_remote_arg go over the socket unchanged.
 *
 *   cc -Wall -O1 -o control-client docs/control-client.c
 *   ./control-client /tmp/kcov.sock      # prints "handle 0x...", then waits for a line on stdin
 *
 * Send requests with the header "kcov-handle: <that handle>" meanwhile, then press Enter: the
 * client waits until the service has finished their work (and what they queued) and prints the
 * PCs, one per line, as kcov.rst's example does; `dotnet kcov symbolize --map DIR` names them.
 */
#include <fcntl.h>
#include <linux/kcov.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h> /* _IOR, _IOW: the encoding of kcov.h's numbers */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define COVER_SIZE (64 << 10)

enum { OP_IOCTL = 1, OP_MMAP = 2, OP_WAIT = 3 };

static void io_all(int fd, void *buf, size_t len, int reading)
{
	for (char *p = buf; len > 0;) {
		ssize_t n = reading ? read(fd, p, len) : write(fd, p, len);
		if (n <= 0) {
			fprintf(stderr, "control-client: the endpoint closed the connection\n");
			exit(1);
		}
		p += n;
		len -= n;
	}
}

/* One request (an op and its fields), one reply; returns the result, the reply's bytes in text. */
static int32_t call(int fd, uint32_t op, const void *fields, uint32_t len, char *text, size_t size)
{
	uint32_t frame = 4 + len, reply;
	int32_t result;
	io_all(fd, &frame, 4, 0);
	io_all(fd, &op, 4, 0);
	io_all(fd, (void *)fields, len, 0);
	io_all(fd, &reply, 4, 1);
	io_all(fd, &result, 4, 1);
	char *rest = malloc(reply - 4 + 1);
	io_all(fd, rest, reply - 4, 1);
	rest[reply - 4] = 0;
	if (text)
		snprintf(text, size, "%s", rest);
	free(rest);
	return result;
}

/* ioctl(fd, cmd, arg) with arg a value (no struct follows), or with arg pointing to len bytes. */
static int32_t do_ioctl(int fd, uint32_t cmd, uint64_t value, const void *arg, uint32_t len, char *why, size_t size)
{
	char *fields = calloc(1, 16 + len);
	memcpy(fields, &cmd, 4);          /* then u32 reserved = 0 */
	memcpy(fields + 8, &value, 8);    /* u64 arg: 0 when a struct follows */
	if (len > 0)
		memcpy(fields + 16, arg, len);
	int32_t result = call(fd, OP_IOCTL, fields, 16 + len, why, size);
	free(fields);
	return result;
}

static void check(int32_t result, const char *what, const char *why)
{
	if (result < 0) {
		fprintf(stderr, "control-client: %s failed with errno %d: %s\n", what, -result, why);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char text[4096];
	if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "usage: control-client SOCKET\n");
		return 2;
	}
	/* open("/sys/kernel/debug/kcov") */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, argv[1]);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("control-client: connect");
		return 1;
	}
	check(do_ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE, NULL, 0, text, sizeof text), "KCOV_INIT_TRACE", text);

	/* mmap: the reply names the area's shared memory, which this process maps itself. */
	uint64_t range[2] = { COVER_SIZE * sizeof(unsigned long), 0 };
	check(call(fd, OP_MMAP, range, sizeof range, text, sizeof text), "mmap", text);
	int area = open(text, O_RDWR);
	unsigned long *cover = mmap(NULL, COVER_SIZE * sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED, area, 0);
	if (area < 0 || cover == MAP_FAILED) {
		perror("control-client: mapping the area");
		return 1;
	}

	struct kcov_remote_arg *arg = calloc(1, sizeof(*arg));
	arg->trace_mode = KCOV_TRACE_PC;
	arg->area_size = 4096;
	arg->num_handles = 0;
	arg->common_handle = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, 0x4b000000 | (getpid() & 0xffffff));
	check(do_ioctl(fd, KCOV_REMOTE_ENABLE, 0, arg, sizeof(*arg), text, sizeof text), "KCOV_REMOTE_ENABLE", text);
	printf("handle 0x%016llx\n", (unsigned long long)arg->common_handle);
	fflush(stdout);

	/* The requests are sent meanwhile; then wait for their work (u32 timeout in ms, u32 reserved). */
	getchar();
	uint32_t wait[2] = { 60000, 0 };
	int32_t faults = call(fd, OP_WAIT, wait, sizeof wait, NULL, 0);
	check(faults, "wait", "see the service's log");
	unsigned long n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
	for (unsigned long i = 0; i < n; i++)
		printf("0x%lx\n", cover[i + 1]);
	if (faults > 0)
		fprintf(stderr, "control-client: the service met %d fault(s) in that work\n", faults);
	close(fd); /* close(): the service disables and frees the device */
	return 0;
}
