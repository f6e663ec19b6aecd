/*
 * ttrpc-echo-server PATH: our ttrpc server with husk.test.Echo/Echo (reply with the
 * request payload), for hack/bench/bench-ttrpc.sh. Prints "ready" once listening; exits
 * cleanly on SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <uv.h>

#include "ttrpc/ttrpc.h"

struct echo {
	struct ttrpc_server *server;
	uv_signal_t sigterm;
	uv_signal_t sigint;
};

static void h_echo(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	(void)ud;
	(void)ttrpc_call_reply(call, req->payload, req->payload_len);
}

static void on_signal(uv_signal_t *s, int signo)
{
	struct echo *e = s->data;
	(void)signo;
	ttrpc_server_close(e->server, 1000, NULL, NULL);
	uv_close((uv_handle_t *)&e->sigterm, NULL);
	uv_close((uv_handle_t *)&e->sigint, NULL);
}

int main(int argc, char **argv)
{
	struct echo e = {0};
	uv_loop_t *loop = uv_default_loop();
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH\n", argv[0]);
		return 2;
	}
	r = ttrpc_server_new(loop, NULL, &e.server);
	if (r == 0)
		r = ttrpc_server_register(e.server, "husk.test.Echo", "Echo", h_echo, NULL);
	if (r == 0)
		r = ttrpc_server_listen(e.server, argv[1]);
	if (r < 0) {
		fprintf(stderr, "ttrpc-echo-server: %s: %s\n", argv[1], uv_strerror(r));
		return 1;
	}
	(void)uv_signal_init(loop, &e.sigterm);
	(void)uv_signal_init(loop, &e.sigint);
	e.sigterm.data = e.sigint.data = &e;
	(void)uv_signal_start(&e.sigterm, on_signal, SIGTERM);
	(void)uv_signal_start(&e.sigint, on_signal, SIGINT);
	printf("ready\n");
	(void)fflush(stdout);
	r = uv_run(loop, UV_RUN_DEFAULT);
	(void)unlink(argv[1]);
	(void)uv_loop_close(loop);
	return r != 0;
}
